"""`lieux interlieux`: the network's signing key and the door devices.

    lieux interlieux keygen [--network SLUG]                 create the key, or rotate it
    lieux interlieux device add --venue SLUG --name NAME      prints the device's token, once
    lieux interlieux device list [--venue SLUG]
    lieux interlieux device revoke --id ID
    lieux interlieux purge [--dry-run]                        forget what is past its retention

A rotated key keeps verifying what it signed for a day; the token of a device is never shown again (its
digest alone is stored): lost, it is revoked and a new device is added.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from lieux.core.errors import DomainError
from lieux.interlieux.models import DoorDevice
from lieux.interlieux.services import purge as purge_services
from lieux.interlieux.services.devices import register_door_device, revoke_door_device
from lieux.interlieux.services.keys import create_network_key
from lieux.venues.models import Network, Venue


class Command(BaseCommand):
    help = "Pass Interlieux: the network's signing key and the door devices."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        keygen = actions.add_parser("keygen", help="Create or rotate the network's Ed25519 key.")
        keygen.add_argument("--network", help="Network slug (needed when there are several).")
        device = actions.add_parser("device", help="Door devices.")
        device_actions = device.add_subparsers(dest="device_action", required=True)
        add = device_actions.add_parser("add", help="Register a door device and print its token once.")
        add.add_argument("--venue", required=True)
        add.add_argument("--name", required=True)
        listing = device_actions.add_parser("list", help="List door devices.")
        listing.add_argument("--venue")
        revoke = device_actions.add_parser("revoke", help="Revoke a door device.")
        revoke.add_argument("--id", type=int, required=True)
        purge = actions.add_parser("purge", help="Delete expired tokens and access records past retention.")
        purge.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "keygen":
                self.keygen(options.get("network"))
            elif options["action"] == "purge":
                self.purge(dry_run=options["dry_run"])
            elif options["device_action"] == "add":
                self.add_device(options["venue"], options["name"])
            elif options["device_action"] == "list":
                self.list_devices(options.get("venue"))
            else:
                self.revoke_device(options["id"])
        except DomainError as error:
            raise CommandError(str(error.message)) from error

    def keygen(self, slug: str | None) -> None:
        networks = Network.objects.filter(slug=slug) if slug else Network.objects.all()
        if networks.count() != 1:
            raise CommandError(
                _("No network named %(slug)s.") % {"slug": slug}
                if slug
                else _("Say which network with --network (there are %(n)s).") % {"n": networks.count()}
            )
        key = create_network_key(network=networks.get())
        self.stdout.write(
            _("Network key %(id)s created; public key %(public)s")
            % {"id": key.key_id, "public": key.public_key}
        )

    def _venue(self, slug: str) -> Venue:
        venue = Venue.objects.filter(slug=slug).first()
        if venue is None:
            raise CommandError(_("No venue named %(slug)s.") % {"slug": slug})
        return venue

    def add_device(self, venue_slug: str, name: str) -> None:
        device, token = register_door_device(venue=self._venue(venue_slug), name=name)
        self.stderr.write(_("Door device %(id)s registered. Its token, shown only now:") % {"id": device.pk})
        self.stdout.write(token)

    def list_devices(self, venue_slug: str | None) -> None:
        devices = DoorDevice.objects.select_related("venue").order_by("venue__slug", "name")
        if venue_slug:
            devices = devices.filter(venue=self._venue(venue_slug))
        for device in devices:
            state = _("revoked") if device.revoked_at else _("active")
            self.stdout.write(
                f"{device.pk}\t{device.venue.slug}\t{device.name}\t{device.token_hint}…\t{state}"
            )

    def revoke_device(self, device_id: int) -> None:
        device = DoorDevice.objects.filter(pk=device_id).first()
        if device is None:
            raise CommandError(_("No door device %(id)s.") % {"id": device_id})
        revoke_door_device(device=device)
        self.stdout.write(_("Door device %(id)s revoked.") % {"id": device_id})

    def purge(self, *, dry_run: bool) -> None:
        report = purge_services.purge(dry_run=dry_run)
        counts = {
            "used": report.used_tokens,
            "revoked": report.revoked_tokens,
            "checks": report.access_checks,
            "passages": report.offline_passages,
        }
        if dry_run:
            message = _(
                "Would delete %(used)s used tokens, %(revoked)s revoked tokens, %(checks)s access checks and "
                "%(passages)s offline passages."
            )
        else:
            message = _(
                "Deleted %(used)s used tokens, %(revoked)s revoked tokens, %(checks)s access checks and "
                "%(passages)s offline passages."
            )
        self.stdout.write(message % counts)
