"""The FEC (fichier des écritures comptables, LPF art. L47 A and A47 A-1): the venue's sales and bank
journals for a fiscal year in the 18 columns the tax administration reads, in this order, tab-separated,
one line per entry line, named SIRENFECYYYYMMDD.txt after the fiscal year's closing date."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.utils.translation import gettext as _

from lieux.billing.services.exports import AccountPlan, Entry, ledger, write_atomically
from lieux.core.errors import ValidationError
from lieux.venues.models import Venue

COLUMNS = (
    "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib", "CompAuxNum",
    "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit", "EcritureLet", "DateLet",
    "ValidDate", "Montantdevise", "Idevise",
)  # fmt: skip
SEPARATOR = "\t"
# The text of A47 A-1 names ASCII and ISO 8859-15; UTF-8 is what the DGFiP's checker accepts in practice.
ENCODINGS = ("utf-8", "iso8859-15")


@dataclass(frozen=True)
class FecFile:
    name: str
    content: bytes
    entries: int
    lines: int


def fec_date(day: date) -> str:
    return day.strftime("%Y%m%d")


def fec_amount(amount: Decimal) -> str:
    """Two decimals, comma separator, no thousands separator: 1234,50."""
    return f"{amount:.2f}".replace(".", ",")


def fec_text(value: str) -> str:
    """A text field without the separators of the format (tab, |) or line breaks."""
    return " ".join(value.replace("|", "/").split())


def file_name(siren: str, closing_on: date) -> str:
    return f"{siren}FEC{fec_date(closing_on)}.txt"


def rows(entries: Iterable[Entry]) -> list[list[str]]:
    """One row of the 18 columns per entry line. Amounts are in euros, so the currency columns stay empty;
    lettering is the accountant's work, so EcritureLet and DateLet stay empty too."""
    result = []
    for entry in entries:
        for line in entry.lines:
            result.append(
                [
                    entry.journal,
                    fec_text(entry.journal_label),
                    entry.number,
                    fec_date(entry.on),
                    line.account,
                    fec_text(line.account_label),
                    line.customer_code,
                    fec_text(line.customer_name),
                    fec_text(entry.reference),
                    fec_date(entry.reference_on),
                    fec_text(entry.label),
                    fec_amount(line.debit),
                    fec_amount(line.credit),
                    "",
                    "",
                    fec_date(entry.on),
                    "",
                    "",
                ]
            )
    return result


def build_fec(
    *,
    venue: Venue,
    start: date,
    end: date,
    accounts: AccountPlan | None = None,
    encoding: str = "utf-8",
) -> FecFile:
    """The FEC of [start, end], `end` being the closing date of the fiscal year."""
    if encoding not in ENCODINGS:
        raise ValidationError(
            _("Unknown encoding %(encoding)s; use one of %(choices)s.")
            % {"encoding": encoding, "choices": ", ".join(ENCODINGS)},
            code="invalid_encoding",
        )
    if not venue.siren:
        raise ValidationError(_("The venue has no SIREN: the FEC is named after it."), code="siren_required")
    entries = ledger(venue=venue, start=start, end=end, accounts=accounts)
    body = rows(entries)
    text = "".join(SEPARATOR.join(row) + "\r\n" for row in [list(COLUMNS), *body])
    # ISO 8859-15 has the euro sign and the French letters; anything else becomes "?" rather than fail.
    return FecFile(
        name=file_name(venue.siren, end),
        content=text.encode(encoding, errors="replace"),
        entries=len(entries),
        lines=len(body),
    )


def write_fec(
    *,
    venue: Venue,
    start: date,
    end: date,
    directory: Path,
    accounts: AccountPlan | None = None,
    encoding: str = "utf-8",
) -> tuple[Path, FecFile]:
    """Build the FEC, then write it into `directory` in one step (a reader never sees half a file)."""
    fec = build_fec(venue=venue, start=start, end=end, accounts=accounts, encoding=encoding)
    path = directory / fec.name
    write_atomically(path, fec.content)
    return path, fec
