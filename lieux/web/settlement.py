"""Where an invoice stands against the money received, as the invoice pages show it: the balance, the
payments with what is left to reverse of each, and the forms to record or reverse one."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.paginator import Page

from lieux.billing.models import Invoice
from lieux.billing.payment_selectors import balances_of, payments_of, settles
from lieux.billing.services.payments import Balance, balance
from lieux.core.money import ZERO
from lieux.web.forms_money import PaymentForm, ReversalForm


def reversal_prefix(payment_pk: int) -> str:
    """Each payment's reversal form has its own field names and ids on the page."""
    return f"reverse-{payment_pk}"


def with_balances(page: Page) -> Page:
    """The page's invoices, each with its `settlement` balance (None for drafts and credit notes)."""
    invoices = list(page.object_list)
    balances = balances_of(invoices)
    for invoice in invoices:
        invoice.settlement = balances.get(invoice.pk)  # type: ignore[attr-defined]
    page.object_list = invoices
    return page


def member_settlement(invoice: Invoice) -> Balance | None:
    """What the buyer sees: where the invoice stands, without the team's forms."""
    return balance(invoice) if settles(invoice) else None


def invoice_settlement(
    invoice: Invoice,
    *,
    today: date,
    payment_form: PaymentForm | None = None,
    reversal_form: ReversalForm | None = None,
) -> dict[str, Any]:
    if not settles(invoice):
        return {"settlement": None}
    current = balance(invoice)
    payments = payments_of(invoice)
    reversed_of: dict[int, Decimal] = {}
    for payment in payments:
        if payment.reverses_id is not None:
            reversed_of[payment.reverses_id] = reversed_of.get(payment.reverses_id, ZERO) - payment.amount
    rows = []
    for payment in payments:
        left = payment.amount - reversed_of.get(payment.pk, ZERO) if payment.amount > ZERO else ZERO
        form = None
        if left > ZERO:
            refused = reversal_form is not None and reversal_form.prefix == reversal_prefix(payment.pk)
            form = (
                reversal_form
                if refused
                else ReversalForm(prefix=reversal_prefix(payment.pk), initial={"on": today})
            )
        rows.append({"payment": payment, "reversible": left, "form": form})
    if payment_form is None:
        initial: dict[str, Any] = {"received_on": today}
        if current.due > ZERO:
            initial["amount"] = current.due
        payment_form = PaymentForm(initial=initial, today=today)
    return {
        "settlement": current,
        "overpaid_by": -current.due if current.due < ZERO else ZERO,
        "payment_rows": rows,
        "payment_form": payment_form,
        "today": today,
    }
