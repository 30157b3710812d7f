"""Pure invoicing rules: VAT regimes, totals, numbering format, footprints. No ORM, no I/O."""

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from lieux.core.money import ZERO, cents, vat_of

# BR-FR-16: the VAT rates the French e-invoicing profile accepts.
FRENCH_VAT_RATES = {
    Decimal(r)
    for r in (
        "0",
        "20",
        "10",
        "13",
        "8.5",
        "19.6",
        "2.1",
        "5.5",
        "7",
        "20.6",
        "1.05",
        "0.9",
        "1.75",
        "9.2",
        "9.6",
    )
}
# BR-FR-01/02: at most 35 characters, letters, digits and + - _ / only.
NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9+\-_/]{1,35}$")
PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9]{1,12}$")


@dataclass(frozen=True)
class VatRegime:
    """How VAT is handled on a document: its code, Factur-X category, exemption code and legal mention."""

    code: str
    category: str  # UNTDID 5305: S, E or O
    exemption_code: str
    mention: str
    charges_vat: bool


STANDARD = VatRegime("standard", "S", "", "", True)
FRANCHISE = VatRegime("franchise", "E", "VATEX-FR-FRANCHISE", "TVA non applicable, art. 293 B du CGI", False)
MEMBERS_EXEMPT = VatRegime(
    "exempt_members", "E", "VATEX-FR-CGI261-7", "Exonération de TVA, art. 261-7-1° a du CGI", False
)
NOT_LIABLE = VatRegime(
    "not_liable", "O", "VATEX-EU-O", "Association non assujettie à la TVA (gestion désintéressée)", False
)


def vat_regime(venue_vat_status: str, *, sold_to_member: bool) -> VatRegime:
    """The regime of a sale from the venue's VAT status. A non-profit exempt for its members charges VAT
    on what it sells to non-members (room hire to a company, for example)."""
    if venue_vat_status == "franchise":
        return FRANCHISE
    if venue_vat_status == "not_liable":
        return NOT_LIABLE
    if venue_vat_status == "exempt_members" and sold_to_member:
        return MEMBERS_EXEMPT
    return STANDARD


@dataclass(frozen=True)
class Line:
    description: str
    quantity: Decimal
    unit_net_amount: Decimal
    vat_rate: Decimal

    @property
    def net_amount(self) -> Decimal:
        return cents(self.quantity * self.unit_net_amount)


@dataclass(frozen=True)
class VatBreakdown:
    rate: Decimal
    net_amount: Decimal
    vat_amount: Decimal


@dataclass(frozen=True)
class Totals:
    net_amount: Decimal
    vat_amount: Decimal
    gross_amount: Decimal
    breakdown: tuple[VatBreakdown, ...]


def totals(lines: Iterable[Line], regime: VatRegime) -> Totals:
    """Totals the French way: VAT computed once per rate on the sum of that rate's lines (EN 16931
    BR-CO-17), not line by line, so the document's VAT equals the sum of its breakdown exactly."""
    by_rate: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        rate = line.vat_rate if regime.charges_vat else ZERO
        by_rate[rate] += line.net_amount
    breakdown = tuple(
        VatBreakdown(rate, net, vat_of(net, rate) if regime.charges_vat else ZERO)
        for rate, net in sorted(by_rate.items())
    )
    net = sum((b.net_amount for b in breakdown), ZERO)
    vat = sum((b.vat_amount for b in breakdown), ZERO)
    return Totals(net, vat, net + vat, breakdown)


def document_number(prefix: str, kind: str, year: int, sequence: int) -> str:
    """PREFIX-F-2026-000042 for invoices, PREFIX-AV-2026-000003 for credit notes (avoirs)."""
    letter = "AV" if kind == "credit_note" else "F"
    number = f"{prefix}-{letter}-{year}-{sequence:06d}"
    if not NUMBER_PATTERN.match(number):
        raise ValueError(f"invalid invoice number {number!r}")
    return number


def due_on(issued_on: date, terms_days: int) -> date:
    # B2B terms may not exceed 60 days (C. com. L441-10).
    return issued_on + timedelta(days=min(terms_days, 60))


def canonical_json(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def footprint(content: dict[str, Any], previous: str) -> str:
    """SHA-256 over the canonical JSON of a document's sealed content and the previous footprint: altering
    any document breaks its own footprint and every link after it."""
    return hashlib.sha256((previous + canonical_json(content)).encode()).hexdigest()
