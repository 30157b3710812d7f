"""The accounting journal as a spreadsheet file (CSV), with the columns the caller chooses.

French spreadsheets expect a semicolon between fields and a comma before the cents, and recognise UTF-8
only with a byte-order mark: those are the defaults. The entries are those of the FEC (`exports.ledger`).

Columns (pass their keys, in the order wanted):

    journal          journal code (VE sales, BQ bank)
    journal_label    journal name
    entry            entry number, gapless per journal (VE000001)
    date             entry date (DD/MM/YYYY)
    account          account number (411, 706, 44571, 512…)
    account_label    account name
    customer         customer sub-account (CP000042 for a person, CO000007 for an organisation)
    customer_name    customer name
    document         invoice or credit note number
    document_date    document date
    label            entry label
    debit            debit amount
    credit           credit amount
    amount           debit minus credit
    vat_rate         VAT rate of a revenue or VAT line, in percent
"""

import csv
import io
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lieux.billing.services.exports import AccountPlan, Entry, EntryLine, ledger
from lieux.core.errors import ValidationError
from lieux.venues.models import Venue

Cell = Callable[[Entry, EntryLine], object]

COLUMNS: dict[str, tuple[object, Cell]] = {
    "journal": (gettext_lazy("Journal"), lambda e, _l: e.journal),
    "journal_label": (gettext_lazy("Journal name"), lambda e, _l: e.journal_label),
    "entry": (gettext_lazy("Entry"), lambda e, _l: e.number),
    "date": (gettext_lazy("Date"), lambda e, _l: e.on),
    "account": (gettext_lazy("Account"), lambda _e, line: line.account),
    "account_label": (gettext_lazy("Account name"), lambda _e, line: line.account_label),
    "customer": (gettext_lazy("Customer account"), lambda _e, line: line.customer_code),
    "customer_name": (gettext_lazy("Customer"), lambda _e, line: line.customer_name),
    "document": (gettext_lazy("Document"), lambda e, _l: e.reference),
    "document_date": (gettext_lazy("Document date"), lambda e, _l: e.reference_on),
    "label": (gettext_lazy("Label"), lambda e, _l: e.label),
    "debit": (gettext_lazy("Debit"), lambda _e, line: line.debit),
    "credit": (gettext_lazy("Credit"), lambda _e, line: line.credit),
    "amount": (gettext_lazy("Amount"), lambda _e, line: line.debit - line.credit),
    "vat_rate": (gettext_lazy("VAT rate"), lambda _e, line: line.vat_rate),
}
DEFAULT_COLUMNS = (
    "journal", "entry", "date", "document", "account", "customer", "customer_name", "label", "debit",
    "credit",
)  # fmt: skip


def parse_columns(text: str) -> list[str]:
    """Column keys from a comma-separated list ("date,account,debit"), checked."""
    columns = [c.strip() for c in text.split(",") if c.strip()]
    check_columns(columns)
    return columns


def check_columns(columns: Sequence[str]) -> None:
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown or not columns:
        raise ValidationError(
            _("Unknown journal columns: %(unknown)s. Choose among: %(known)s.")
            % {"unknown": ", ".join(unknown) or "-", "known": ", ".join(COLUMNS)},
            code="invalid_columns",
        )


def _cell(value: object, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else f"{value.normalize():f}"
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def render_journal(
    entries: Sequence[Entry],
    *,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    delimiter: str = ";",
    decimal_comma: bool = True,
) -> str:
    """The CSV text of `entries`, one row per entry line, with a header of the columns' names."""
    check_columns(columns)
    if delimiter == "," and decimal_comma:
        raise ValidationError(
            _("A comma cannot separate both the fields and the cents."), code="invalid_delimiter"
        )
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([str(COLUMNS[c][0]) for c in columns])
    for entry in entries:
        for line in entry.lines:
            writer.writerow([_cell(COLUMNS[c][1](entry, line), decimal_comma) for c in columns])
    return out.getvalue()


def build_journal(
    *,
    venue: Venue,
    start: date,
    end: date,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    delimiter: str = ";",
    decimal_comma: bool = True,
    accounts: AccountPlan | None = None,
) -> bytes:
    """The journal of [start, end] as a CSV file's bytes, UTF-8 with a byte-order mark."""
    check_columns(columns)
    entries = ledger(venue=venue, start=start, end=end, accounts=accounts)
    text = render_journal(entries, columns=columns, delimiter=delimiter, decimal_comma=decimal_comma)
    return text.encode("utf-8-sig")
