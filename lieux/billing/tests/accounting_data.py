"""Issued documents and payments on chosen dates, for the tests of exports and closings."""

from datetime import date, datetime, time
from decimal import Decimal

from lieux.billing.models import Invoice, Payment
from lieux.billing.services.credit_notes import issue_credit_note
from lieux.billing.services.drafts import DraftLine, create_draft
from lieux.billing.services.issue import issue_invoice
from tests.factories import PARIS

D = Decimal


class Clock:
    """Moves the clock of issuing (and of closing) to a chosen local day of a Paris venue."""

    def __init__(self, monkeypatch) -> None:
        self.monkeypatch = monkeypatch

    def set(self, day: date, hour: int = 10) -> None:
        instant = datetime.combine(day, time(hour)).replace(tzinfo=PARIS)
        for module in ("lieux.billing.services.issue", "lieux.billing.services.closing"):
            self.monkeypatch.setattr(f"{module}.now", lambda instant=instant: instant)


def lines(*items: tuple[str, str]) -> list[DraftLine]:
    """(net amount, VAT rate) pairs as draft lines of quantity one."""
    return [DraftLine(f"Prestation {n}", D(1), D(amount), D(rate)) for n, (amount, rate) in enumerate(items)]


def issue_on(
    clock: Clock,
    day: date,
    venue,
    *,
    buyer=None,
    organisation=None,
    items: tuple[tuple[str, str], ...] = (("100.00", "20"),),
) -> Invoice:
    clock.set(day)
    draft = create_draft(
        venue=venue,
        buyer_user=buyer,
        buyer_organisation=organisation,
        lines=lines(*items),
        service_from=day,
        service_to=day,
    )
    return issue_invoice(draft.pk)


def credit_on(
    clock: Clock, day: date, invoice: Invoice, *, items: tuple[tuple[str, str], ...] | None = None
) -> Invoice:
    clock.set(day)
    return issue_credit_note(invoice, reason="Annulation", lines=lines(*items) if items else None)


def pay(invoice: Invoice, amount: str, day: date, *, method: str = "transfer", reverses=None) -> Payment:
    return Payment.objects.create(
        venue=invoice.venue,
        invoice=invoice,
        method=method,
        amount=D(amount),
        received_on=day,
        reference=f"REF{Payment.objects.count() + 1}",
        reverses=reverses,
    )
