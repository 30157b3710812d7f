"""Money received against an issued invoice: recording it, reversing it, and what is left to pay.

Every movement is a row of the append-only `Payment` table. A provider's id (`external_id`) is unique per
method, so a payment reported twice — a webhook delivered again, an import re-run — is recorded once and
the second call returns the first row.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lieux.billing.errors import NotIssued
from lieux.billing.models import DocumentKind, Invoice, InvoiceStatus, Payment, PaymentMethod
from lieux.core import audit
from lieux.core.errors import ValidationError
from lieux.core.money import ZERO, cents


class Settlement:
    """Where an invoice stands against the money received (its reconciliation state)."""

    UNPAID = "unpaid"
    PARTIAL = "partial"
    PAID = "paid"
    OVERPAID = "overpaid"
    LABELS = {
        UNPAID: gettext_lazy("Unpaid"),
        PARTIAL: gettext_lazy("Partly paid"),
        PAID: gettext_lazy("Paid"),
        OVERPAID: gettext_lazy("Overpaid"),
    }


@dataclass(frozen=True)
class Balance:
    gross: Decimal  # the invoice total
    credited: Decimal  # credit notes issued against it
    paid: Decimal  # payments net of their reversals

    @property
    def due(self) -> Decimal:
        return self.gross - self.credited - self.paid

    @property
    def state(self) -> str:
        if self.due == ZERO:
            return Settlement.PAID
        if self.due < ZERO:
            return Settlement.OVERPAID
        return Settlement.PARTIAL if self.paid > ZERO else Settlement.UNPAID


def balance(invoice: Invoice) -> Balance:
    credited = Invoice.objects.filter(
        corrects=invoice, kind=DocumentKind.CREDIT_NOTE, status=InvoiceStatus.ISSUED
    ).aggregate(total=Sum("gross_amount"))["total"]
    paid = invoice.payments.aggregate(total=Sum("amount"))["total"]
    return Balance(invoice.gross_amount, credited or ZERO, paid or ZERO)


def record_payment(
    invoice: Invoice,
    *,
    amount: Decimal,
    method: str,
    received_on: date,
    reference: str = "",
    external_id: str | None = None,
    recorded_by: Any = None,
) -> Payment:
    """Record money received for an issued invoice; partial payments are welcome. With an `external_id`
    the call is idempotent: the same provider payment is recorded once."""
    amount = _positive_cents(amount)
    if method not in PaymentMethod.values:
        raise ValidationError(_("Unknown payment method %(method)r.") % {"method": method}, code="bad_method")
    if invoice.status != InvoiceStatus.ISSUED or invoice.kind != DocumentKind.INVOICE:
        raise NotIssued(_("Payments are recorded against issued invoices only."))
    if external_id and (known := Payment.objects.filter(method=method, external_id=external_id).first()):
        return known
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                venue_id=invoice.venue_id,
                invoice=invoice,
                method=method,
                amount=amount,
                received_on=received_on,
                reference=reference[:140],
                external_id=external_id or None,
                recorded_by=recorded_by,
            )
            audit.record(
                "payment.recorded", payment, actor=recorded_by, venue_id=invoice.venue_id, amount=str(amount)
            )
    except IntegrityError:
        if external_id and (known := Payment.objects.filter(method=method, external_id=external_id).first()):
            return known  # a concurrent delivery of the same provider payment wrote it first
        raise
    return payment


def reverse_payment(
    payment: Payment,
    *,
    reason: str,
    on: date,
    amount: Decimal | None = None,
    external_id: str | None = None,
    recorded_by: Any = None,
) -> Payment:
    """A rejected debit, a bounced cheque or a refund: a negative row pointing at the payment it undoes.
    Never more than what the payment brought in, counting earlier reversals."""
    if not reason.strip():
        raise ValidationError(_("Say why the payment is reversed."), code="reason_required")
    if payment.amount <= ZERO:
        raise ValidationError(_("Only a received payment can be reversed."), code="not_reversible")
    if external_id and (
        known := Payment.objects.filter(method=payment.method, external_id=external_id).first()
    ):
        return known
    with transaction.atomic():
        # Lock the original so two reversals of the same payment cannot both pass the check.
        original = Payment.objects.select_for_update().get(pk=payment.pk)
        reversed_so_far = -(original.reversals.aggregate(total=Sum("amount"))["total"] or ZERO)
        wanted = original.amount - reversed_so_far if amount is None else _positive_cents(amount)
        if wanted <= ZERO or wanted > original.amount - reversed_so_far:
            raise ValidationError(
                _("This payment has only %(left)s € left to reverse.")
                % {"left": original.amount - reversed_so_far},
                code="reversal_too_large",
            )
        reversal = Payment.objects.create(
            venue_id=original.venue_id,
            invoice_id=original.invoice_id,
            method=original.method,
            amount=-wanted,
            received_on=on,
            reference=original.reference,
            external_id=external_id or None,
            reverses=original,
            reason=reason[:200],
            recorded_by=recorded_by,
        )
        audit.record(
            "payment.reversed", reversal, actor=recorded_by, venue_id=original.venue_id, reason=reason
        )
    return reversal


def _positive_cents(amount: Decimal) -> Decimal:
    try:
        value = cents(Decimal(amount))
    except (ArithmeticError, ValueError, TypeError):
        raise ValidationError(_("The amount is not a number."), code="bad_amount") from None
    if value <= ZERO:
        raise ValidationError(_("The amount must be positive."), code="bad_amount")
    return value
