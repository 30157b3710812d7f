"""VAT summary of a period, per VAT regime and rate, for the venue's VAT return (CA3/CA12).

Two views. By issue date: what was invoiced minus what was credited, which is when VAT falls due for sales
of goods, and for services when the venue opted to pay VAT on debits. By payment: the money received minus
the money paid back, split over the rates of the document it pays, which is when VAT on services falls due
otherwise (CGI art. 269-2-c). The summary says which of the two applies to the venue.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lieux.billing import rules
from lieux.billing.models import BillingProfile, DocumentKind
from lieux.billing.services.exports import breakdown_of, check_period, issued_documents, payments_received
from lieux.core.money import ZERO, cents
from lieux.venues.models import Venue


@dataclass(frozen=True)
class VatRow:
    """One (regime, rate): what adds (invoices, receipts) and what deducts (credit notes, refunds)."""

    regime: str
    rate: Decimal
    added_net: Decimal
    added_vat: Decimal
    deducted_net: Decimal
    deducted_vat: Decimal

    @property
    def net_amount(self) -> Decimal:
        return self.added_net - self.deducted_net

    @property
    def vat_amount(self) -> Decimal:
        return self.added_vat - self.deducted_vat


@dataclass(frozen=True)
class VatSummary:
    venue_slug: str
    start: date
    end: date
    vat_on_debits: bool
    by_issue_date: tuple[VatRow, ...]
    by_payment: tuple[VatRow, ...]

    @property
    def basis(self) -> str:
        """Either "debits" (VAT due at invoicing) or "receipts" (due at payment: services, no option)."""
        return "debits" if self.vat_on_debits else "receipts"

    @property
    def due(self) -> tuple[VatRow, ...]:
        return self.by_issue_date if self.vat_on_debits else self.by_payment

    @staticmethod
    def totals(rows: Iterable[VatRow]) -> tuple[Decimal, Decimal]:
        rows = list(rows)
        return sum((r.net_amount for r in rows), ZERO), sum((r.vat_amount for r in rows), ZERO)


class _Table:
    def __init__(self) -> None:
        self.cells: dict[tuple[str, Decimal], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO, ZERO])

    def add(self, regime: str, rate: Decimal, net: Decimal, vat: Decimal, *, deduct: bool) -> None:
        cell = self.cells[(regime, rate)]
        offset = 2 if deduct else 0
        cell[offset] += net
        cell[offset + 1] += vat

    def rows(self) -> tuple[VatRow, ...]:
        return tuple(VatRow(regime, rate, *amounts) for (regime, rate), amounts in sorted(self.cells.items()))


def split_payment(
    amount: Decimal, breakdown: Sequence[rules.VatBreakdown]
) -> list[tuple[Decimal, Decimal, Decimal]]:
    """Split a payment over a document's rates in proportion to each rate's gross amount: (rate, net, vat)
    per rate. The last rate takes the rounding rest, so the parts add up to the payment to the cent."""
    gross = sum((b.net_amount + b.vat_amount for b in breakdown), ZERO)
    if not breakdown or gross == 0:
        return []
    parts = []
    left = amount
    for index, part in enumerate(breakdown):
        part_gross = part.net_amount + part.vat_amount
        share = left if index == len(breakdown) - 1 else cents(amount * part_gross / gross)
        left -= share
        vat = cents(share * part.vat_amount / part_gross) if part_gross else ZERO
        parts.append((part.rate, share - vat, vat))
    return parts


def vat_summary(*, venue: Venue, start: date, end: date) -> VatSummary:
    check_period(start, end)
    profile = BillingProfile.objects.filter(venue=venue).first()
    issued = _Table()
    for doc in issued_documents(venue, start, end):
        for part in breakdown_of(doc):
            issued.add(
                doc.vat_regime,
                part.rate,
                part.net_amount,
                part.vat_amount,
                deduct=doc.kind == DocumentKind.CREDIT_NOTE,
            )
    paid = _Table()
    for payment in payments_received(venue, start, end).prefetch_related("invoice__lines"):
        for rate, net, vat in split_payment(abs(payment.amount), breakdown_of(payment.invoice)):
            paid.add(payment.invoice.vat_regime, rate, net, vat, deduct=payment.amount < 0)
    return VatSummary(
        venue_slug=venue.slug,
        start=start,
        end=end,
        vat_on_debits=bool(profile and profile.vat_on_debits),
        by_issue_date=issued.rows(),
        by_payment=paid.rows(),
    )
