import os

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lieux.core.errors import DomainError
from lieux.memberships.models import Plan
from lieux.memberships.services import helloasso
from lieux.venues.models import Venue


class Command(BaseCommand):
    help = (
        "Import the paid memberships of a HelloAsso form into a venue's membership-fee plan. "
        "Credentials come from HELLOASSO_CLIENT_ID, HELLOASSO_CLIENT_SECRET and HELLOASSO_ORGANIZATION. "
        "Safe to run again: orders already imported are left as they are."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--venue", required=True, help="slug of the venue")
        parser.add_argument("--form", required=True, help="slug of the HelloAsso form")
        parser.add_argument("--plan", required=True, help="slug of the venue's membership-fee plan")
        parser.add_argument(
            "--form-type", default="Membership", help="HelloAsso form type (default: Membership)"
        )

    def handle(
        self, *args: object, venue: str, form: str, plan: str, form_type: str, **options: object
    ) -> None:
        try:
            place = Venue.objects.get(slug=venue)
        except Venue.DoesNotExist:
            raise CommandError(f"No venue with the slug {venue!r}.") from None
        try:
            offer = Plan.objects.get(venue=place, slug=plan)
        except Plan.DoesNotExist:
            raise CommandError(f"{place.name} has no plan with the slug {plan!r}.") from None

        def progress(order_id: str, outcome: str, detail: str) -> None:
            if outcome == "imported":
                self.stdout.write(f"order {order_id}: imported ({detail})")
            elif outcome == "skipped":
                self.stdout.write(f"order {order_id}: skipped, {detail}")
            else:
                self.stdout.write(f"order {order_id}: already imported")

        self.stdout.write(f"Importing HelloAsso form {form_type}/{form} into {place.name} — {offer.name}")
        try:
            client = helloasso.client_from_env(os.environ)
            report = helloasso.import_form(
                client=client, venue=place, plan=offer, form_slug=form, form_type=form_type, progress=progress
            )
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(report.imported)} imported, {len(report.already)} already imported, "
                f"{len(report.skipped)} skipped"
            )
        )
