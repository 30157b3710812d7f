"""`lieux contributions-reports`: the documents that make contributions visible, from the command line.

    lieux contributions-reports report --budget SLUG --from 2026-01-01 --to 2026-12-31 \\
        [--hourly-value 25] [--pdf rapport.pdf] [--csv rapport.csv]
    lieux contributions-reports report --network SLUG --from 2026-01-01 --to 2026-12-31 --pdf rapport.pdf
    lieux contributions-reports certificate --person EMAIL --year 2026 --pdf attestation.pdf [--network SLUG]
    lieux contributions-reports history --person EMAIL [--year 2026] [--csv FILE] [--json FILE]
    lieux contributions-reports verify ATT-2026-1-42-3F9A1C0B7D

Every argument is checked before anything is read or written; a wrong one stops the command with a
message and a non-zero status. Files are written whole or not at all.
"""

import argparse
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lieux.accounts.models import User
from lieux.billing.services.exports import write_atomically
from lieux.contributions.models import Budget
from lieux.contributions.reports import certificate, formats, funder, history
from lieux.core.errors import DomainError
from lieux.venues.models import Network


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(text)r is not a date; write it YYYY-MM-DD, e.g. 2026-12-31.") % {"text": text}
        ) from None


def parse_year(text: str) -> int:
    if not re.fullmatch(r"\d{4}", text):
        raise argparse.ArgumentTypeError(_("%(text)r is not a year; e.g. 2026.") % {"text": text})
    return int(text)


def parse_amount(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise argparse.ArgumentTypeError(
            _("%(text)r is not an amount in euros; e.g. 25 or 22.50.") % {"text": text}
        )
    return value


class Command(BaseCommand):
    help = (
        "Contribution documents: the funder's report of a budget or of the network (PDF, CSV), a person's "
        "yearly certificate of volunteer hours (PDF), a person's history (CSV, JSON), and the check of a "
        "certificate's reference."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        report = actions.add_parser("report", help="the funder's report of a budget or of the network")
        scope = report.add_mutually_exclusive_group()
        scope.add_argument("--budget", help="slug of the budget")
        scope.add_argument("--network", help="slug of the network, for a report on all its projects")
        report.add_argument(
            "--from", dest="start", type=parse_day, required=True, help="first day, YYYY-MM-DD"
        )
        report.add_argument("--to", dest="end", type=parse_day, required=True, help="last day, YYYY-MM-DD")
        report.add_argument(
            "--hourly-value", type=parse_amount, help="euros an hour is valued at (default: the budget's)"
        )
        report.add_argument("--pdf", help="the PDF file to write")
        report.add_argument("--csv", help="the CSV file to write")

        cert = actions.add_parser("certificate", help="a person's certificate of volunteer hours for a year")
        cert.add_argument("--person", required=True, help="e-mail of the person")
        cert.add_argument("--year", type=parse_year, required=True, help="calendar year, e.g. 2026")
        cert.add_argument("--pdf", required=True, help="the PDF file to write")
        cert.add_argument("--network", help="slug of the issuing network (when there are several)")

        past = actions.add_parser("history", help="a person's contribution history as CSV or JSON")
        past.add_argument("--person", required=True, help="e-mail of the person")
        past.add_argument("--year", type=parse_year, help="only this calendar year")
        past.add_argument("--csv", help="the CSV file to write")
        past.add_argument("--json", help="the JSON file to write")

        check = actions.add_parser("verify", help="check a certificate's verification reference")
        check.add_argument("reference", help="e.g. ATT-2026-1-42-3F9A1C0B7D")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        handlers: dict[str, Callable[..., None]] = {
            "report": self.report,
            "certificate": self.certificate,
            "history": self.history,
            "verify": self.verify,
        }
        handler = handlers[action]
        try:
            handler(**options)
        except DomainError as error:
            raise CommandError(str(error.message)) from error

    # Arguments ------------------------------------------------------------------------------------------

    def _outputs(self, **paths: str | None) -> dict[str, Path]:
        """The files asked for, checked before any work: at least one, distinct, in existing directories."""
        given = {kind: Path(path) for kind, path in paths.items() if path}
        if not given:
            raise CommandError(
                _("Say where to write: %(options)s.")
                % {"options": " ".join(f"--{kind} FILE" for kind in paths)}
            )
        if len({p.resolve() for p in given.values()}) < len(given):
            raise CommandError(_("Give each file its own path."))
        for path in given.values():
            if not path.parent.is_dir():
                raise CommandError(_("No directory for %(path)s.") % {"path": path})
            if path.is_dir():
                raise CommandError(_("%(path)s is a directory; give a file name.") % {"path": path})
        return given

    def _person(self, email: str) -> User:
        person = User.objects.filter(email__iexact=email.strip()).first()
        if person is None:
            raise CommandError(_("Nobody has the e-mail %(email)r.") % {"email": email})
        return person

    def _network(self, slug: str | None) -> Network | None:
        if slug is None:
            return None
        network = Network.objects.filter(slug=slug).first()
        if network is None:
            raise CommandError(_("No network with the slug %(slug)r.") % {"slug": slug})
        return network

    def _only_network(self) -> Network:
        networks = list(Network.objects.all()[:2])
        if len(networks) != 1:
            raise CommandError(
                _("Say which network: --network SLUG.") if networks else _("There is no network yet.")
            )
        return networks[0]

    def _budget(self, slug: str) -> Budget:
        budgets = list(Budget.objects.filter(slug=slug).select_related("network")[:2])
        if not budgets:
            raise CommandError(_("No budget with the slug %(slug)r.") % {"slug": slug})
        if len(budgets) > 1:
            # Slugs are unique within a network only.
            raise CommandError(
                _("Several networks have a budget %(slug)r; report on one network with --network instead.")
                % {"slug": slug}
            )
        return budgets[0]

    def _write(self, path: Path, content: bytes) -> None:
        write_atomically(path, content)
        self.stdout.write(_("%(path)s written (%(size)s bytes)") % {"path": path, "size": len(content)})

    # Actions --------------------------------------------------------------------------------------------

    def report(
        self,
        *,
        budget: str | None,
        network: str | None,
        start: date,
        end: date,
        hourly_value: Decimal | None,
        pdf: str | None,
        csv: str | None,
        **_options: Any,
    ) -> None:
        outputs = self._outputs(pdf=pdf, csv=csv)
        chosen_budget = self._budget(budget) if budget else None
        if chosen_budget is not None:
            chosen_network = chosen_budget.network
        else:
            chosen_network = self._network(network) or self._only_network()
        self.stdout.write(
            _("Reading the contributions of %(scope)s from %(start)s to %(end)s…")
            % {
                "scope": chosen_budget.name if chosen_budget else chosen_network.name,
                "start": start.isoformat(),
                "end": end.isoformat(),
            }
        )
        result = funder.funder_report(
            network=chosen_network, budget=chosen_budget, start=start, end=end, hourly_value=hourly_value
        )
        self.stdout.write(
            _(
                "Validated contributions: %(contributions)s; contributors: %(contributors)s; "
                "hours: %(hours)s, valued at %(value)s; paid in euros: %(paid)s; in credit: %(credit)s."
            )
            % {
                "contributions": result.contributions,
                "contributors": result.contributors,
                "hours": formats.hours(result.total_hours),
                "value": formats.euros(result.total_value),
                "paid": formats.euros(result.euros_paid),
                "credit": formats.euros(result.credit_euros),
            }
        )
        if "csv" in outputs:
            self._write(outputs["csv"], funder.funder_csv(result))
        if "pdf" in outputs:
            self.stdout.write(_("Printing the PDF…"))
            self._write(outputs["pdf"], funder.funder_pdf(result))

    def certificate(self, *, person: str, year: int, pdf: str, network: str | None, **_options: Any) -> None:
        outputs = self._outputs(pdf=pdf)
        who = self._person(person)
        chosen = certificate.certificate_for(person=who, year=year, network=self._network(network))
        self.stdout.write(
            _("%(person)s, %(year)s: %(hours)s (validated contributions: %(count)s); reference %(reference)s")
            % {
                "person": who.get_full_name() or who.email,
                "year": year,
                "hours": formats.hours(chosen.total_hours),
                "count": chosen.contributions,
                "reference": chosen.reference,
            }
        )
        self._write(outputs["pdf"], certificate.certificate_pdf(chosen))

    def history(
        self, *, person: str, year: int | None, csv: str | None, json: str | None, **_options: Any
    ) -> None:
        outputs = self._outputs(csv=csv, json=json)
        who = self._person(person)
        rows = history.person_history(who, year)
        self.stdout.write(
            ngettext("%(count)s contribution found.", "%(count)s contributions found.", len(rows))
            % {"count": len(rows)}
        )
        if "csv" in outputs:
            self._write(outputs["csv"], history.history_csv(rows))
        if "json" in outputs:
            self._write(outputs["json"], history.history_json(who, rows, year=year))

    def verify(self, *, reference: str, **_options: Any) -> None:
        found = certificate.verify(reference)
        if found is None:
            raise CommandError(
                _(
                    "No certificate matches %(reference)s in the records: it was mistyped, or contributions "
                    "have changed since it was issued."
                )
                % {"reference": reference}
            )
        self.stdout.write(
            _(
                "Valid: %(person)s, %(year)s, %(hours)s (validated contributions: %(count)s), "
                "issued by %(network)s."
            )
            % {
                "person": found.person_name,
                "year": found.year,
                "hours": formats.hours(found.total_hours),
                "count": found.contributions,
                "network": found.network,
            }
        )
