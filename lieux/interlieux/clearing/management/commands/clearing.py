"""`lieux clearing`: the monthly clearing between the venues of the network.

    lieux clearing key --method per_visit --price 5 [--allowance 10] [--cap 200] --voted-on 2026-10-15
                       [--share 30 for revenue_share] [--note …]
    lieux clearing run --month 2026-11 [--close] [--dry-run] [--key VERSION] [--revenue SLUG=AMOUNT …]
    lieux clearing close --month 2026-11
    lieux clearing explain --month 2026-11

`--network SLUG` is needed only when the installation serves several networks. Every argument is checked
before anything is written; a wrong one stops the command with a message and a non-zero status.
"""

import argparse
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from lieux.core.errors import DomainError
from lieux.interlieux.clearing import rules, selectors
from lieux.interlieux.clearing.models import ClearingKey, ClearingStatement
from lieux.interlieux.clearing.services.close import close_month
from lieux.interlieux.clearing.services.explain import explain, recompute
from lieux.interlieux.clearing.services.keys import vote_key
from lieux.interlieux.clearing.services.run import preview_clearing, run_clearing
from lieux.venues.models import Network, Venue


def parse_month(text: str) -> date:
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not match or not 1 <= int(match[2]) <= 12:
        raise argparse.ArgumentTypeError(
            _("%(text)r is not a month; write it YYYY-MM, e.g. 2026-11.") % {"text": text}
        )
    return date(int(match[1]), int(match[2]), 1)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(text)r is not a date; write it YYYY-MM-DD, e.g. 2026-10-15.") % {"text": text}
        ) from None


def parse_amount(text: str) -> Decimal:
    try:
        amount = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(
            _("%(text)r is not an amount, e.g. 12.50.") % {"text": text}
        ) from None
    if not amount.is_finite() or amount < 0:
        raise argparse.ArgumentTypeError(_("%(text)r is not an amount, e.g. 12.50.") % {"text": text})
    return amount


def parse_revenue(text: str) -> tuple[str, Decimal]:
    slug, equals, amount = text.partition("=")
    if not equals or not slug:
        raise argparse.ArgumentTypeError(
            _("%(text)r: write the venue's slug, '=' and the amount, e.g. baraka=1200.") % {"text": text}
        )
    return slug, parse_amount(amount)


class Command(BaseCommand):
    help = (
        "The monthly clearing between venues: vote a key, compute a month (or preview it), close it with its "
        "inter-venue invoices, explain a statement."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--network", help="slug of the network (default: the only one)")
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        key = actions.add_parser("key", help="record the key the network voted, as a new version")
        key.add_argument("--method", required=True, choices=rules.METHODS)
        key.add_argument(
            "--price", type=parse_amount, default=Decimal(0), help="per visit or half-day, excl. VAT"
        )
        key.add_argument("--share", type=parse_amount, default=Decimal(0), help="percent of the pass revenue")
        key.add_argument(
            "--allowance", type=int, default=0, help="free difference in visits per pair and month"
        )
        key.add_argument("--cap", type=parse_amount, help="cap per pair of venues and month, excl. VAT")
        key.add_argument("--voted-on", dest="voted_on", type=parse_day, required=True, help="YYYY-MM-DD")
        key.add_argument("--note", default="", help="the decision, e.g. 'AG du 15 octobre 2026'")

        run = actions.add_parser("run", help="compute a month's statement (a draft until closed)")
        run.add_argument("--month", type=parse_month, required=True, help="YYYY-MM")
        run.add_argument("--close", action="store_true", help="also issue the invoices and close the month")
        run.add_argument("--dry-run", action="store_true", help="compute and show, write nothing")
        run.add_argument(
            "--key", dest="key_version", type=int, help="key version (default: the latest voted)"
        )
        run.add_argument(
            "--revenue",
            type=parse_revenue,
            action="append",
            metavar="SLUG=AMOUNT",
            help="pass revenue of a home venue for the month (revenue-share keys), repeat per venue",
        )

        close = actions.add_parser("close", help="issue a computed month's invoices and close it")
        close.add_argument("--month", type=parse_month, required=True, help="YYYY-MM")

        show = actions.add_parser("explain", help="recompute a statement from its inputs and explain it")
        show.add_argument("--month", type=parse_month, required=True, help="YYYY-MM")

    def handle(self, *args: Any, action: str, network: str | None, **options: Any) -> None:
        place = self.network(network)
        handlers: dict[str, Callable[..., None]] = {
            "key": self.key,
            "run": self.run,
            "close": self.close,
            "explain": self.explain,
        }
        try:
            handlers[action](place, **options)
        except DomainError as error:
            raise CommandError(str(error.message)) from error

    @staticmethod
    def network(slug: str | None) -> Network:
        if slug:
            found = Network.objects.filter(slug=slug).first()
            if found is None:
                raise CommandError(_("No network with the slug %(slug)r.") % {"slug": slug})
            return found
        networks = list(Network.objects.all()[:2])
        if not networks:
            raise CommandError(_("There is no network yet."))
        if len(networks) > 1:
            raise CommandError(_("Several networks: say which one with --network SLUG."))
        return networks[0]

    def say(self, line: str) -> None:
        self.stdout.write(line)
        self.stdout.flush()

    @staticmethod
    def statement(network: Network, month: date) -> ClearingStatement:
        statement = selectors.statement_for(network, month)
        if statement is None:
            raise CommandError(
                _("No statement for %(month)s: run `lieux clearing run --month %(month)s` first.")
                % {"month": f"{month:%Y-%m}"}
            )
        return statement

    def key(self, network: Network, **options: Any) -> None:
        key = vote_key(
            network=network,
            method=options["method"],
            unit_price=options["price"],
            revenue_share_percent=options["share"],
            free_allowance=options["allowance"],
            cap_per_pair=options["cap"],
            voted_on=options["voted_on"],
            note=options["note"],
        )
        self.say(_("Key v%(version)s recorded: %(key)s") % {"version": key.version, "key": key})

    def run(
        self,
        network: Network,
        *,
        month: date,
        close: bool,
        dry_run: bool,
        key_version: int | None,
        revenue: list[tuple[str, Decimal]] | None,
        **_options: Any,
    ) -> None:
        if close and dry_run:
            raise CommandError(_("--close and --dry-run exclude each other."))
        key = None
        if key_version is not None:
            key = ClearingKey.objects.filter(network=network, version=key_version).first()
            if key is None:
                raise CommandError(_("The network has no key v%(version)s.") % {"version": key_version})
        pass_revenue = None
        if revenue:
            venues = dict(Venue.objects.filter(network=network).values_list("slug", "pk"))
            pass_revenue = {}
            for slug, amount in revenue:
                if slug not in venues:
                    raise CommandError(_("No venue %(slug)r in this network.") % {"slug": slug})
                pass_revenue[venues[slug]] = amount
        self.say(_("Clearing of %(month)s for %(network)s") % {"month": f"{month:%Y-%m}", "network": network})
        if dry_run:
            result = preview_clearing(network, month, key=key, pass_revenue=pass_revenue, progress=self.say)
            for transfer in result.transfers:
                self.say(
                    f"  {result.venue_names[transfer.debtor]} → {result.venue_names[transfer.creditor]}: "
                    f"{transfer.amount} €"
                )
            self.say(_("Dry run: nothing written."))
            return
        statement = run_clearing(
            network, month, key=key, close=close, pass_revenue=pass_revenue, progress=self.say
        )
        self.report(statement)

    def close(self, network: Network, *, month: date, **_options: Any) -> None:
        statement = self.statement(network, month)
        if statement.is_closed:
            self.say(_("%(month)s was already closed.") % {"month": f"{month:%Y-%m}"})
        statement = close_month(statement, progress=self.say)
        self.report(statement)

    def report(self, statement: ClearingStatement) -> None:
        for transfer in statement.transfers.select_related("debtor", "creditor", "invoice"):
            number = transfer.invoice.number if transfer.invoice else _("not invoiced yet")
            self.say(f"  {transfer.debtor.name} → {transfer.creditor.name}: {transfer.amount} € ({number})")
        self.stdout.write(
            self.style.SUCCESS(
                _("Statement %(id)s of %(month)s (%(status)s): %(visits)s visits, %(amount)s € to transfer")
                % {
                    "id": statement.pk,
                    "month": f"{statement.month:%Y-%m}",
                    "status": statement.get_status_display(),
                    "visits": statement.visits,
                    "amount": statement.cleared_amount,
                }
            )
        )

    def explain(self, network: Network, *, month: date, **_options: Any) -> None:
        statement = self.statement(network, month)
        for line in explain(statement):
            self.say(line)
        if not recompute(statement).matches:
            raise CommandError(_("The stored figures differ from those recomputed from the inputs."))
        self.stdout.write(self.style.SUCCESS(_("Recomputed from its inputs: the same figures.")))
