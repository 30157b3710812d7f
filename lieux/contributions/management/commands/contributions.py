"""`lieux contributions`: the treasurer's commands for contributive budgets.

    lieux contributions budget show SLUG [--network SLUG] [--step week|month]
    lieux contributions funding add SLUG --name NAME --kind grant --amount 50000 --committed-on 2026-01-15 \\
        [--funder "ANCT"]
    lieux contributions receipt add SLUG --source NAME --amount 25000 --received-on 2026-03-02 \\
        [--reference VIR-2026-118]
    lieux contributions close SLUG [--method pro_rata|carry_over|top_up] [--next SLUG] \\
        [--top-up-name NAME --top-up-amount 1200 [--top-up-kind other] [--top-up-funder NAME]]
    lieux contributions settle-credit --budget ID|SLUG --venue ID|SLUG --amount 120.00 --reference F-12 \\
        [--date 2026-03-02]

The commands act as the platform (the operator running them is trusted) through the same services as the
web pages and the API: the same checks, the same audit rows. A wrong argument stops the command with a
message and a non-zero status, before anything is written.
"""

import argparse
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lieux.contributions.models import Budget, Closing, FundingSource, SourceKind
from lieux.contributions.selectors import budgets as selectors
from lieux.contributions.services.closing import TopUp, close_budget
from lieux.contributions.services.funding import add_funding_source, record_receipt
from lieux.contributions.services.settlements import settle_credit
from lieux.core.errors import DomainError
from lieux.venues.models import Network, Venue

FUNDING_KINDS = [k for k in SourceKind.values if k != SourceKind.CARRIED_OVER]


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(text)r is not a date; write it YYYY-MM-DD, e.g. 2026-12-31.") % {"text": text}
        ) from None


class Command(BaseCommand):
    help = "Contributive budgets: figures, funding sources, receipts, closing and credit settled to venues."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)

        budget = actions.add_parser("budget", help="Budgets.")
        budget_actions = budget.add_subparsers(dest="budget_action", required=True)
        show = budget_actions.add_parser("show", help="A budget's figures, sources and what it owes.")
        show.add_argument("budget", help="The budget's slug.")
        show.add_argument("--network", help="Network slug (needed when there are several).")
        show.add_argument("--step", choices=["week", "month"], help="Burn-down step.")

        funding = actions.add_parser("funding", help="Funding sources.")
        funding_actions = funding.add_subparsers(dest="funding_action", required=True)
        add = funding_actions.add_parser("add", help="Commit a funding source to a budget.")
        add.add_argument("budget")
        add.add_argument("--network")
        add.add_argument("--name", required=True)
        add.add_argument("--kind", required=True, choices=FUNDING_KINDS)
        add.add_argument("--amount", required=True, help="Euros, e.g. 50000 or 1234.50.")
        add.add_argument("--committed-on", required=True, type=parse_day)
        add.add_argument("--funder", default="")

        receipt = actions.add_parser("receipt", help="Cash received from a funding source.")
        receipt_actions = receipt.add_subparsers(dest="receipt_action", required=True)
        received = receipt_actions.add_parser("add", help="Record cash a source paid into the budget.")
        received.add_argument("budget")
        received.add_argument("--network")
        received.add_argument("--source", required=True, help="The source's name (or its id).")
        received.add_argument("--amount", required=True)
        received.add_argument("--received-on", required=True, type=parse_day)
        received.add_argument(
            "--reference", default="", help="The bank reference: a retry records nothing twice."
        )

        close = actions.add_parser("close", help="Close a budget (choose a method when it is in deficit).")
        close.add_argument("budget")
        close.add_argument("--network")
        close.add_argument("--method", choices=Closing.values)
        close.add_argument("--next", help="carry_over: the slug of the budget that takes the deficit over.")
        close.add_argument("--top-up-name")
        close.add_argument("--top-up-amount")
        close.add_argument("--top-up-kind", default=SourceKind.OTHER, choices=FUNDING_KINDS)
        close.add_argument("--top-up-funder", default="")
        close.add_argument(
            "--top-up-on", type=parse_day, help="Day the top-up was committed (default: today)."
        )

        settle = actions.add_parser(
            "settle-credit", help="Record that a budget paid a venue for the network credit it honours."
        )
        settle.add_argument("--budget", required=True, help="The budget's id (or its slug).")
        settle.add_argument("--network", help="Network slug, for a budget named by its slug.")
        settle.add_argument("--venue", required=True, help="The venue paid: its id or its slug.")
        settle.add_argument("--amount", required=True, help="Euros, e.g. 120.00.")
        settle.add_argument(
            "--reference", required=True, help="The venue's invoice number: a retry records nothing twice."
        )
        settle.add_argument("--date", type=parse_day, help="Day it was paid (default: today).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            action = options["action"]
            if action == "budget":
                self.show(options)
            elif action == "funding":
                self.add_funding(options)
            elif action == "receipt":
                self.add_receipt(options)
            elif action == "settle-credit":
                self.settle(options)
            else:
                self.close(options)
        except DomainError as error:
            raise CommandError(str(error.message)) from error

    # Look-ups --------------------------------------------------------------------------------------------

    def _network(self, slug: str | None) -> Network:
        networks = Network.objects.filter(slug=slug) if slug else Network.objects.all()
        if networks.count() != 1:
            raise CommandError(
                _("No network named %(slug)s.") % {"slug": slug}
                if slug
                else _("Say which network with --network (there are %(n)s).") % {"n": networks.count()}
            )
        return networks.get()

    def _budget(self, slug: str, network_slug: str | None) -> Budget:
        network = self._network(network_slug)
        budget = Budget.objects.select_related("network", "venue").filter(network=network, slug=slug).first()
        if budget is None:
            raise CommandError(_("No budget named %(slug)s.") % {"slug": slug})
        return budget

    def _budget_by_id_or_slug(self, wanted: str, network_slug: str | None) -> Budget:
        if wanted.isdigit():
            budget = Budget.objects.select_related("network", "venue").filter(pk=int(wanted)).first()
            if budget is None:
                raise CommandError(_("No budget #%(id)s.") % {"id": wanted})
            return budget
        return self._budget(wanted, network_slug)

    def _venue(self, wanted: str, network: Network) -> Venue:
        venues = Venue.objects.filter(network=network)
        venue = (venues.filter(pk=int(wanted)) if wanted.isdigit() else venues.filter(slug=wanted)).first()
        if venue is None:
            raise CommandError(
                _("No venue %(venue)s in the network %(network)s.")
                % {"venue": wanted, "network": network.slug}
            )
        return venue

    # Actions ---------------------------------------------------------------------------------------------

    def show(self, options: dict[str, Any]) -> None:
        budget = self._budget(options["budget"], options.get("network"))
        figures = selectors.budget_figures(budget)
        write = self.stdout.write
        write(f"{budget.name} ({budget.slug}) — {budget.starts_on} → {budget.ends_on} — {figures.state}")
        rows = [
            (_("Committed"), figures.committed),
            (_("Cash received"), figures.received),
            (_("Still to receive"), figures.to_receive),
            (_("Validated requests"), figures.validated),
            (_("Reduced at closing"), figures.reduced),
            (_("Paid in euros"), figures.paid_euros),
            (_("Paid in credit"), figures.credit_issued),
            (_("Credit settled with the venues"), figures.credit_settled),
            (_("Credit still to settle"), figures.credit_to_settle),
            (_("Owed to contributors"), figures.owed),
            (_("Envelope left"), figures.remaining),
            (_("Deficit"), figures.deficit),
            (_("Cash available to pay"), figures.cash),
            (_("Pending requests"), figures.pending_amount),
            (_("Forecast envelope left"), figures.forecast_remaining),
        ]
        width = max(len(label) for label, _value in rows)
        for label, value in rows:
            write(f"  {label:<{width}}  {value:>12} €")
        count = figures.pending_count
        write(
            "  "
            + ngettext("%(n)s request awaiting review", "%(n)s requests awaiting review", count)
            % {"n": count}
        )
        write(_("Funding sources:"))
        for source, paid in selectors.funding_sources(budget):
            write(
                f"  #{source.pk}  {source.name}  [{source.kind}]  {source.amount} €  "
                + _("received %(paid)s €") % {"paid": paid}
            )
        owed = selectors.owed_by_person(budget)
        if owed:
            write(_("Owed per person (id: euros):"))
            for person_id, amount in sorted(owed.items()):
                write(f"  {person_id}: {amount} €")
        series = selectors.burn_down(budget, options.get("step"))
        write(_("Burn-down by %(step)s (day: envelope left / granted / received):") % {"step": series.step})
        for point in series.points:
            if point.envelope_left is not None:
                write(f"  {point.on}: {point.envelope_left} / {point.granted} / {point.received}")

    def add_funding(self, options: dict[str, Any]) -> None:
        budget = self._budget(options["budget"], options.get("network"))
        source = add_funding_source(
            budget=budget,
            name=options["name"],
            kind=options["kind"],
            amount=options["amount"],
            committed_on=options["committed_on"],
            funder=options["funder"],
        )
        self.stdout.write(
            _("Source #%(id)s %(name)s: %(amount)s € committed to %(budget)s.")
            % {"id": source.pk, "name": source.name, "amount": source.amount, "budget": budget.slug}
        )

    def add_receipt(self, options: dict[str, Any]) -> None:
        budget = self._budget(options["budget"], options.get("network"))
        wanted = options["source"]
        sources = FundingSource.objects.filter(budget=budget, name=wanted)
        if not sources.exists() and wanted.isdigit():
            sources = FundingSource.objects.filter(budget=budget, pk=int(wanted))
        source = sources.select_related("budget").first()
        if source is None:
            raise CommandError(
                _("The budget %(budget)s has no source %(source)s.")
                % {"budget": budget.slug, "source": wanted}
            )
        receipt = record_receipt(
            source=source,
            amount=options["amount"],
            received_on=options["received_on"],
            reference=options["reference"],
        )
        self.stdout.write(
            _("Receipt #%(id)s: %(amount)s € received on %(day)s from %(source)s.")
            % {"id": receipt.pk, "amount": receipt.amount, "day": receipt.received_on, "source": source.name}
        )

    def close(self, options: dict[str, Any]) -> None:
        budget = self._budget(options["budget"], options.get("network"))
        method = options.get("method")
        next_budget = None
        top_up = None
        if method == Closing.CARRY_OVER:
            if not options.get("next"):
                raise CommandError(_("--next names the budget that takes the deficit over."))
            next_budget = self._budget(options["next"], budget.network.slug)
        if method == Closing.TOP_UP:
            if not options.get("top_up_name") or not options.get("top_up_amount"):
                raise CommandError(_("--top-up-name and --top-up-amount describe the top-up source."))
            top_up = TopUp(
                name=options["top_up_name"],
                amount=options["top_up_amount"],
                committed_on=options.get("top_up_on") or selectors.budget_today(budget),
                kind=options["top_up_kind"],
                funder=options["top_up_funder"],
            )
        closed = close_budget(budget=budget, method=method, next_budget=next_budget, top_up=top_up)
        figures = selectors.budget_figures(closed)
        self.stdout.write(
            _("%(budget)s closed (%(method)s): %(granted)s € granted for %(committed)s € committed.")
            % {
                "budget": closed.slug,
                "method": closed.closed_with or _("no deficit"),
                "granted": figures.granted,
                "committed": figures.committed,
            }
        )

    def settle(self, options: dict[str, Any]) -> None:
        budget = self._budget_by_id_or_slug(options["budget"], options.get("network"))
        venue = self._venue(options["venue"], budget.network)
        settlement = settle_credit(
            budget=budget,
            venue=venue,
            amount=options["amount"],
            reference=options["reference"],
            settled_on=options.get("date") or selectors.budget_today(budget),
        )
        self.stdout.write(
            _(
                "Settlement #%(id)s: %(amount)s € paid to %(venue)s against its invoice %(reference)s; "
                "%(left)s € of credit still to settle there."
            )
            % {
                "id": settlement.pk,
                "amount": settlement.amount,
                "venue": venue.name,
                "reference": settlement.reference,
                "left": selectors.credit_to_settle(budget, venue.pk),
            }
        )
