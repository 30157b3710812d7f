"""`lieux billing`: the billing run, chain verification, period closing and accounting exports.

    lieux billing run [--period 2026-12] [--venue SLUG] [--dry-run]
    lieux billing verify [--venue SLUG]
    lieux billing close --venue SLUG --from 2026-01-01 --to 2026-12-31 [--by EMAIL]
    lieux billing verify-archive PATH [--previous PATH]
    lieux billing export fec --venue SLUG --year 2026 [--output DIR] [--encoding iso8859-15]
    lieux billing export journal --venue SLUG --from 2026-01-01 --to 2026-03-31 [--columns date,account,debit]
    lieux billing export vat --venue SLUG --period 2026-12   (or 2026-Q4, or 2026)
    lieux billing sepa announce --venue SLUG --on 2026-12-05 [--by EMAIL]
    lieux billing sepa batch --venue SLUG --on 2026-12-05 [--output DIR] [--by EMAIL]
    lieux billing sepa collected --batch MESSAGE-ID --on 2026-12-07
    lieux billing sepa return --debit END-TO-END-ID --reason AM04 --on 2026-12-10
    lieux billing remind [--today 2026-12-31]

It lives in `memberships`, the lowest layer that sees both the billing run and billing. Every argument is
checked before anything is written; a wrong one stops the command with a message and a non-zero status.
"""

import argparse
import calendar
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from lieux.accounts.models import User
from lieux.billing.models import DirectDebitBatch, Invoice, InvoiceStatus
from lieux.billing.payment_rules import RETURN_REASONS
from lieux.billing.services import archive, chain, journal, sepa
from lieux.billing.services.closing import archive_path, close_period, verify_closings
from lieux.billing.services.exports import ledger, write_atomically
from lieux.billing.services.fec import write_fec
from lieux.billing.services.reminders import send_due_reminders
from lieux.billing.services.vat_summary import VatRow, VatSummary, vat_summary
from lieux.core.errors import DomainError
from lieux.core.time import now
from lieux.venues.models import Venue


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(text)r is not a date; write it YYYY-MM-DD, e.g. 2026-12-31.") % {"text": text}
        ) from None


def parse_month(text: str) -> date:
    """2026-12 → the first day of December 2026."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if not match or not 1 <= int(match[2]) <= 12:
        raise argparse.ArgumentTypeError(
            _("%(text)r is not a month; write it YYYY-MM, e.g. 2026-12.") % {"text": text}
        )
    return date(int(match[1]), int(match[2]), 1)


def parse_year(text: str) -> int:
    if not re.fullmatch(r"\d{4}", text) or int(text) < 1900:
        raise argparse.ArgumentTypeError(_("%(text)r is not a year; e.g. 2026.") % {"text": text})
    return int(text)


def parse_period(text: str) -> tuple[date, date]:
    """A VAT return period: a month (2026-12), a quarter (2026-Q4) or a year (2026)."""
    if match := re.fullmatch(r"(\d{4})-[Qq]([1-4])", text):
        year, quarter = int(match[1]), int(match[2])
        last_month = quarter * 3
        return date(year, last_month - 2, 1), date(year, last_month, calendar.monthrange(year, last_month)[1])
    if re.fullmatch(r"\d{4}", text):
        year = parse_year(text)
        return date(year, 1, 1), date(year, 12, 31)
    try:
        first = parse_month(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            _("%(text)r is not a period; write a month (2026-12), a quarter (2026-Q4) or a year (2026).")
            % {"text": text}
        ) from None
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


class Command(BaseCommand):
    help = (
        "Invoicing from the command line: the monthly billing run, verification of the footprint chain, "
        "closing of accounting periods with their archives, and exports for the accountant (FEC, journal, "
        "VAT summary)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        run = actions.add_parser("run", help="issue the invoices of a month (subscriptions, bookings)")
        run.add_argument("--period", type=parse_month, help="month to bill, YYYY-MM (default: this month)")
        run.add_argument("--venue", help="slug of one venue (default: every venue)")
        run.add_argument("--dry-run", action="store_true", help="show what would be issued, issue nothing")

        verify = actions.add_parser("verify", help="recompute the footprint chain of issued documents")
        verify.add_argument("--venue", help="slug of one venue (default: every venue)")

        close = actions.add_parser("close", help="close an accounting period and write its archive")
        close.add_argument("--venue", required=True, help="slug of the venue")
        close.add_argument(
            "--from", dest="start", type=parse_day, required=True, help="first day, YYYY-MM-DD"
        )
        close.add_argument("--to", dest="end", type=parse_day, required=True, help="last day, YYYY-MM-DD")
        close.add_argument("--by", dest="closed_by", help="e-mail of the person closing (recorded)")

        check = actions.add_parser("verify-archive", help="re-check a closing archive (ZIP) offline")
        check.add_argument("path", help="the archive to check")
        check.add_argument("--previous", help="the archive of the closing before, to check the link to it")

        export = actions.add_parser("export", help="accounting exports: fec, journal, vat")
        kinds = export.add_subparsers(dest="export", required=True, metavar="EXPORT")

        fec = kinds.add_parser("fec", help="the FEC of a fiscal year (SIRENFECYYYYMMDD.txt)")
        fec.add_argument("--venue", required=True, help="slug of the venue")
        fec.add_argument("--year", type=parse_year, help="calendar fiscal year, e.g. 2026")
        fec.add_argument(
            "--from", dest="start", type=parse_day, help="first day of a non-calendar fiscal year"
        )
        fec.add_argument("--to", dest="end", type=parse_day, help="closing day of a non-calendar fiscal year")
        fec.add_argument("--output", default=".", help="directory to write the file into (default: here)")
        fec.add_argument("--encoding", default="utf-8", choices=["utf-8", "iso8859-15"])

        journal = kinds.add_parser("journal", help="the journal as a CSV file for a spreadsheet")
        journal.add_argument("--venue", required=True, help="slug of the venue")
        journal.add_argument("--from", dest="start", type=parse_day, required=True, help="first day")
        journal.add_argument("--to", dest="end", type=parse_day, required=True, help="last day")
        journal.add_argument(
            "--columns", help="comma-separated column keys (see lieux.billing.services.journal)"
        )
        journal.add_argument("--delimiter", default=";", help="field separator (default ;)")
        journal.add_argument(
            "--decimal", choices=["comma", "point"], default="comma", help="decimal separator (default comma)"
        )
        journal.add_argument("--output", help="file to write (default: print)")

        vat = kinds.add_parser("vat", help="VAT summary of a month, quarter or year")
        vat.add_argument("--venue", required=True, help="slug of the venue")
        vat.add_argument("--period", type=parse_period, required=True, help="2026-12, 2026-Q4 or 2026")

        debits = actions.add_parser("sepa", help="SEPA direct debits: announce, batch, collected, return")
        steps = debits.add_subparsers(dest="step", required=True, metavar="STEP")

        announce = steps.add_parser(
            "announce", help="plan the debits of a collection date and notify debtors"
        )
        announce.add_argument("--venue", required=True, help="slug of the venue")
        announce.add_argument("--on", dest="collection_on", type=parse_day, required=True, help="YYYY-MM-DD")
        announce.add_argument("--by", dest="by", help="e-mail of the person acting (recorded)")

        batch = steps.add_parser("batch", help="write the pain.008 file of a collection date")
        batch.add_argument("--venue", required=True, help="slug of the venue")
        batch.add_argument("--on", dest="collection_on", type=parse_day, required=True, help="YYYY-MM-DD")
        batch.add_argument("--output", default=".", help="directory to write the file into (default: here)")
        batch.add_argument("--by", dest="by", help="e-mail of the person acting (recorded)")

        collected = steps.add_parser("collected", help="the bank paid a batch: record its payments")
        collected.add_argument("--batch", dest="message_id", required=True, help="message id of the batch")
        collected.add_argument("--on", dest="received_on", type=parse_day, required=True, help="YYYY-MM-DD")

        returned = steps.add_parser("return", help="a debit came back: record it with its reason code")
        returned.add_argument("--debit", dest="end_to_end_id", required=True, help="end-to-end id")
        returned.add_argument(
            "--reason",
            required=True,
            type=str.upper,
            choices=sorted(RETURN_REASONS),
            metavar="CODE",
            help="ISO reason code, e.g. AM04 (insufficient funds), MD01 (no mandate), AC04 (account closed)",
        )
        returned.add_argument("--on", dest="returned_on", type=parse_day, required=True, help="YYYY-MM-DD")

        remind = actions.add_parser("remind", help="e-mail the overdue reminders due today")
        remind.add_argument("--today", type=parse_day, help="the day to act as (default: each venue's today)")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        handlers: dict[str, Callable[..., None]] = {
            "run": self.run,
            "verify": self.verify,
            "close": self.close,
            "verify-archive": self.verify_archive,
            "export": self.export,
            "sepa": self.sepa,
            "remind": self.remind,
        }
        try:
            handlers[action](**options)
        except DomainError as error:
            raise CommandError(str(error.message)) from error

    # Helpers

    @staticmethod
    def venue(slug: str | None) -> Venue | None:
        if slug is None:
            return None
        try:
            return Venue.objects.get(slug=slug)
        except Venue.DoesNotExist:
            raise CommandError(_("No venue with the slug %(slug)r.") % {"slug": slug}) from None

    @staticmethod
    def person(email: str | None) -> User | None:
        if not email:
            return None
        person = User.objects.filter(email__iexact=email).first()
        if person is None:
            raise CommandError(_("Nobody has the e-mail %(email)r.") % {"email": email})
        return person

    def required_venue(self, slug: str) -> Venue:
        venue = self.venue(slug)
        assert venue is not None
        return venue

    # Subcommands

    def run(self, *, period: date | None, venue: str | None, dry_run: bool, **_options: Any) -> None:
        place = self.venue(venue)
        month = period or timezone.localtime(now()).date().replace(day=1)
        # Imported here: the billing run pulls in every billing source, which the other actions never need.
        from lieux.memberships.services.billing_run import run_billing

        report = run_billing(period=month, venue=place, dry_run=dry_run, progress=self.stdout.write)
        if report.errors:
            for line in report.errors:
                self.stderr.write(line)
            raise CommandError(
                _("The billing run met %(count)s errors; run it again to retry them.")
                % {"count": len(report.errors)}
            )

    def verify(self, *, venue: str | None, **_options: Any) -> None:
        place = self.venue(venue)
        venue_id = place.pk if place else None
        issued = Invoice.objects.filter(status=InvoiceStatus.ISSUED)
        if venue_id is not None:
            issued = issued.filter(venue_id=venue_id)
        breaches = 0
        for breach in [*chain.verify(venue_id), *verify_closings(venue_id)]:
            self.stdout.write(str(breach))
            breaches += 1
        count = issued.count()
        if breaches:
            raise CommandError(
                _("%(breaches)s breaches found in %(count)s documents: the chain is not intact.")
                % {"breaches": breaches, "count": count}
            )
        self.stdout.write(
            self.style.SUCCESS(_("%(count)s documents checked, chain intact") % {"count": count})
        )

    def close(self, *, venue: str, start: date, end: date, closed_by: str | None, **_options: Any) -> None:
        place = self.required_venue(venue)
        actor = None
        if closed_by:
            actor = User.objects.filter(email__iexact=closed_by).first()
            if actor is None:
                raise CommandError(_("Nobody has the e-mail %(email)r.") % {"email": closed_by})
        closing = close_period(venue=place, period_start=start, period_end=end, actor=actor)
        self.stdout.write(
            _(
                "%(venue)s closed from %(start)s to %(end)s: %(count)s documents, %(net)s net, %(vat)s VAT, "
                "%(gross)s gross; perpetual total %(perpetual)s"
            )
            % {
                "venue": place.name,
                "start": start,
                "end": end,
                "count": closing.document_count,
                "net": closing.net_amount,
                "vat": closing.vat_amount,
                "gross": closing.gross_amount,
                "perpetual": closing.perpetual_gross_amount,
            }
        )
        self.stdout.write(
            _("Archive %(path)s (checksum %(sha)s)")
            % {"path": archive_path(closing), "sha": closing.archive_sha256}
        )

    def verify_archive(self, *, path: str, previous: str | None, **_options: Any) -> None:
        for given in (path, previous):
            if given is not None and not Path(given).is_file():
                raise CommandError(_("No archive at %(path)s.") % {"path": given})
        check = archive.verify_archive(path, previous=previous)
        for problem in check.problems:
            self.stdout.write(problem)
        if not check.ok:
            raise CommandError(
                _("%(path)s does not verify: %(count)s problems.")
                % {"path": path, "count": len(check.problems)}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("%(path)s verified: %(count)s documents from %(start)s to %(end)s, checksum %(sha)s")
                % {
                    "path": path,
                    "count": check.documents,
                    "start": check.closing.get("period_start"),
                    "end": check.closing.get("period_end"),
                    "sha": check.archive_sha256,
                }
            )
        )

    def export(self, *, export: str, **options: Any) -> None:
        exports: dict[str, Callable[..., None]] = {
            "fec": self.export_fec,
            "journal": self.export_journal,
            "vat": self.export_vat,
        }
        exports[export](**options)

    def export_fec(
        self,
        *,
        venue: str,
        year: int | None,
        start: date | None,
        end: date | None,
        output: str,
        encoding: str,
        **_options: Any,
    ) -> None:
        if year is not None and (start or end):
            raise CommandError(_("Give either --year or --from and --to, not both."))
        if year is not None:
            start, end = date(year, 1, 1), date(year, 12, 31)
        if start is None or end is None:
            raise CommandError(_("Say which fiscal year: --year 2026, or --from and --to."))
        directory = Path(output)
        if not directory.is_dir():
            raise CommandError(_("No directory %(path)s.") % {"path": directory})
        place = self.required_venue(venue)
        path, fec = write_fec(venue=place, start=start, end=end, directory=directory, encoding=encoding)
        self.stdout.write(
            _("%(path)s: %(entries)s entries, %(lines)s lines")
            % {"path": path, "entries": fec.entries, "lines": fec.lines}
        )

    def export_journal(
        self,
        *,
        venue: str,
        start: date,
        end: date,
        columns: str | None,
        delimiter: str,
        decimal: str,
        output: str | None,
        **_options: Any,
    ) -> None:
        chosen = journal.parse_columns(columns) if columns is not None else list(journal.DEFAULT_COLUMNS)
        if len(delimiter) != 1:
            raise CommandError(_("The delimiter is one character, e.g. ; or a tab."))
        if output is not None and not Path(output).parent.is_dir():
            raise CommandError(_("No directory for %(path)s.") % {"path": output})
        place = self.required_venue(venue)
        text = journal.render_journal(
            ledger(venue=place, start=start, end=end),
            columns=chosen,
            delimiter=delimiter,
            decimal_comma=decimal == "comma",
        )
        if output is None:
            self.stdout.write(text, ending="")
            return
        # With a byte-order mark, spreadsheets open the file as UTF-8 and show the accents right.
        write_atomically(Path(output), text.encode("utf-8-sig"))
        self.stdout.write(_("%(path)s written") % {"path": output})

    def export_vat(self, *, venue: str, period: tuple[date, date], **_options: Any) -> None:
        place = self.required_venue(venue)
        start, end = period
        summary = vat_summary(venue=place, start=start, end=end)
        self.stdout.write(
            _("VAT summary of %(venue)s from %(start)s to %(end)s")
            % {"venue": place.name, "start": start, "end": end}
        )
        if summary.vat_on_debits:
            self.stdout.write(_("VAT is due on invoicing (option for debits): use the first table."))
        else:
            self.stdout.write(
                _("VAT on services is due on payment (no option for debits): use the second table.")
            )

        def table(title: str, added: str, deducted: str, rows: tuple[VatRow, ...]) -> None:
            self.stdout.write("")
            self.stdout.write(title)
            header = (_("regime"), _("rate"), added, _("VAT"), deducted, _("VAT"), _("net"), _("VAT"))
            self.stdout.write("{:<16}{:>7}{:>14}{:>12}{:>14}{:>12}{:>14}{:>12}".format(*header))
            for row in rows:
                self.stdout.write(
                    f"{row.regime:<16}{row.rate:>7}{row.added_net:>14}{row.added_vat:>12}"
                    f"{row.deducted_net:>14}{row.deducted_vat:>12}{row.net_amount:>14}{row.vat_amount:>12}"
                )
            net, vat = VatSummary.totals(rows)
            self.stdout.write(f"{_('total'):<23}{'':>52}{net:>14}{vat:>12}")

        table(
            _("By issue date: invoices minus credit notes"),
            _("invoiced"),
            _("credited"),
            summary.by_issue_date,
        )
        table(_("By payment: received minus paid back"), _("received"), _("paid back"), summary.by_payment)

    def sepa(self, *, step: str, **options: Any) -> None:
        steps: dict[str, Callable[..., None]] = {
            "announce": self.sepa_announce,
            "batch": self.sepa_batch,
            "collected": self.sepa_collected,
            "return": self.sepa_return,
        }
        steps[step](**options)

    def sepa_announce(self, *, venue: str, collection_on: date, by: str | None, **_options: Any) -> None:
        place = self.required_venue(venue)
        actor = self.person(by)
        debits = sepa.announce_debits(place, collection_on=collection_on, actor=actor)
        for debit in debits:
            self.stdout.write(
                f"{debit.end_to_end_id}\t{debit.invoice.number}\t{debit.amount}\t{debit.sequence_type}"
            )
        self.stdout.write(
            _("%(count)s debits announced for %(date)s, totalling %(total)s")
            % {"count": len(debits), "date": collection_on, "total": sum(d.amount for d in debits)}
        )

    def sepa_batch(
        self, *, venue: str, collection_on: date, output: str, by: str | None, **_options: Any
    ) -> None:
        directory = Path(output)
        if not directory.is_dir():
            raise CommandError(_("No directory %(path)s.") % {"path": directory})
        place = self.required_venue(venue)
        actor = self.person(by)
        batch = sepa.prepare_batch(place, collection_on=collection_on, actor=actor)
        path = directory / f"{batch.message_id}.xml"
        write_atomically(path, batch.xml.encode("utf-8"))
        summary = sepa.batch_summary(batch)
        self.stdout.write(
            _("%(path)s: %(count)s debits, %(total)s, checksum %(sha)s")
            % {"path": path, "count": summary["count"], "total": summary["total"], "sha": batch.sha256}
        )

    def sepa_collected(self, *, message_id: str, received_on: date, **_options: Any) -> None:
        batch = DirectDebitBatch.objects.filter(message_id=message_id).first()
        if batch is None:
            raise CommandError(_("No SEPA batch %(id)r.") % {"id": message_id})
        payments = sepa.mark_collected(batch, on=received_on)
        self.stdout.write(
            _("%(count)s payments recorded for %(id)s") % {"count": len(payments), "id": message_id}
        )

    def sepa_return(self, *, end_to_end_id: str, reason: str, returned_on: date, **_options: Any) -> None:
        debit = sepa.debit_by_end_to_end_id(end_to_end_id)
        returned = sepa.record_return(debit, reason_code=reason, returned_on=returned_on)
        self.stdout.write(
            _("%(id)s returned (%(code)s %(label)s); invoice %(number)s is due again")
            % {
                "id": returned.end_to_end_id,
                "code": reason,
                "label": RETURN_REASONS[reason],
                "number": returned.invoice.number,
            }
        )

    def remind(self, *, today: date | None, **_options: Any) -> None:
        sent = send_due_reminders(today)
        self.stdout.write(_("%(count)s reminders sent") % {"count": sent})
