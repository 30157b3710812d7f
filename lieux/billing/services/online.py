"""Online payment of an invoice: opening a payment with a provider, and applying what its webhooks report.

Opening. The `PaymentAttempt` row, with its idempotency key derived from the invoice and the attempt
number, is committed before the provider is called. A call that crashed or timed out is replayed with the
same key, and the provider answers with what it already made instead of making a second one. A new attempt
(next number, new key) is opened only when the last one can no longer be paid: failed, cancelled, expired,
older than the provider keeps keys, or for another amount (a partial payment came in meanwhile).

Webhooks. Each event is verified by its provider, then stored as a `ProviderEvent` in the transaction that
applies it; the unique (provider, event id) makes a second delivery, even a concurrent one, find it and
stop without touching anything. Providers deliver out of order, so each event is applied by a rule that
does not depend on order:

- A success records the payment (idempotent by the payment intent id) whatever came before: money that
  arrived is recorded. `succeeded`, `canceled` and `expired` are final for an attempt's status.
- Other statuses (`processing`, `failed`) change a non-final attempt only when no later event about the
  same attempt has been applied already, so an old `processing` never overwrites a newer `failed`.
- A refund is applied from the charge's cumulative refunded amount: each event tops the reversals up to
  that total (never down), so partial refunds in any order end at the right figure.
- A refund or a lost dispute that arrives before the success it undoes is stored as `pending`, and applied
  right after the success records the payment, in the same transaction.

Events about one payment intent are serialised (a row lock on the attempt, and on PostgreSQL an advisory
lock on the intent), so a refund and its success arriving together cannot both miss each other.
"""

import hashlib
import logging
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from lieux.billing.models import DocumentKind, Invoice, InvoiceStatus, Payment, PaymentMethod
from lieux.billing.models.payments import PaymentAttempt, ProviderEvent
from lieux.billing.providers import Checkout, MalformedEvent, ProviderEventData, get_provider
from lieux.billing.services.payments import balance, record_payment, reverse_payment
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import Conflict, DomainError, ValidationError
from lieux.core.money import ZERO, from_minor_units
from lieux.core.time import now

logger = logging.getLogger(__name__)


class AttemptStatus:
    CREATED = "created"  # written, provider not (yet) answered
    OPEN = "open"  # the payer can pay on the provider's page
    PROCESSING = "processing"  # a SEPA debit on its way: days, not seconds
    FAILED = "failed"  # refused; the payer may try again on the same page
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"
    EXPIRED = "expired"

    FINAL = {SUCCEEDED, CANCELED, EXPIRED}
    REUSABLE = {CREATED, OPEN}


class Outcome:
    APPLIED = "applied"
    STALE = "stale"  # older than what is already known: nothing to change
    PENDING = "pending"  # waits for the payment it is about
    IGNORED = "ignored"  # a type not handled, or a payment not opened here
    DUPLICATE = "duplicate"  # returned for a second delivery; never stored


# Stripe keeps an idempotency key at least 24 hours; an attempt is replayed with its key only before that.
ATTEMPT_REUSE = timedelta(hours=23)


def idempotency_key(invoice: Invoice, *, provider: str, attempt_no: int) -> str:
    """Stable for (invoice, provider, attempt): the ids come first so a long number is what gets cut."""
    return f"{provider}-invoice-{invoice.pk}-attempt-{attempt_no}-{invoice.number or ''}"[:80]


# --- Opening a payment ------------------------------------------------------------------------------------


def start_online_payment(
    invoice: Invoice, *, return_url: str, provider: str = "stripe", actor: Any = None
) -> Checkout:
    """Open (or reopen) the online payment of what is left to pay on `invoice`. Run it outside any
    transaction: the attempt must be committed before the provider is called."""
    gateway = get_provider(provider)  # a disabled provider is refused before anything is written
    attempt = _attempt_for(invoice, provider=provider, actor=actor)
    checkout = gateway.start_payment(invoice, attempt=attempt, return_url=return_url)
    with transaction.atomic():
        PaymentAttempt.objects.filter(pk=attempt.pk, status=AttemptStatus.CREATED).update(
            status=AttemptStatus.OPEN, provider_reference=checkout.reference[:140], updated_at=now()
        )
    return checkout


def _attempt_for(invoice: Invoice, *, provider: str, actor: Any) -> PaymentAttempt:
    if invoice.status != InvoiceStatus.ISSUED or invoice.kind != DocumentKind.INVOICE:
        raise ValidationError(_("Only an issued invoice can be paid online."), code="not_payable")
    due = balance(invoice).due
    if due <= ZERO:
        raise ValidationError(_("Nothing is left to pay on this invoice."), code="nothing_due")

    def write() -> PaymentAttempt:
        latest = (
            PaymentAttempt.objects.select_for_update()
            .filter(invoice=invoice, provider=provider)
            .order_by("-attempt_no")
            .first()
        )
        if latest is not None and latest.status == AttemptStatus.PROCESSING:
            raise Conflict(
                _("A payment of this invoice is already being processed."), code="payment_in_progress"
            )
        if (
            latest is not None
            and latest.status in AttemptStatus.REUSABLE
            and latest.amount == due
            and now() - latest.created_at < ATTEMPT_REUSE
        ):
            return latest
        number = (latest.attempt_no if latest else 0) + 1
        attempt = PaymentAttempt.objects.create(
            invoice=invoice,
            provider=provider,
            attempt_no=number,
            idempotency_key=idempotency_key(invoice, provider=provider, attempt_no=number),
            amount=due,
            status=AttemptStatus.CREATED,
        )
        audit.record(
            "billing.payment_attempt.created",
            attempt,
            actor=actor,
            venue_id=invoice.venue_id,
            provider=provider,
            amount=str(due),
            attempt=number,
        )
        return attempt

    try:
        return atomic_with_retry(write)
    except IntegrityError:
        # A concurrent request took this attempt number first: reuse (or follow) what it wrote.
        return atomic_with_retry(write)


# --- Webhook events ---------------------------------------------------------------------------------------


def handle_event(provider: str, body: bytes, headers: Mapping[str, str]) -> str:
    """Verify, store once and apply one webhook delivery; returns its outcome (`duplicate` for a delivery
    already stored). A bad signature or a malformed body raises before anything is written."""
    gateway = get_provider(provider)
    event = gateway.parse_event(body, headers)
    if ProviderEvent.objects.filter(provider=provider, event_id=event.event_id).exists():
        return Outcome.DUPLICATE
    try:
        return atomic_with_retry(lambda: _store_and_apply(provider, event))
    except IntegrityError:
        # The unique (provider, event id) refused a concurrent delivery of the same event.
        if ProviderEvent.objects.filter(provider=provider, event_id=event.event_id).exists():
            return Outcome.DUPLICATE
        raise


def _store_and_apply(provider: str, event: ProviderEventData) -> str:
    # Stored first: a concurrent delivery of the same event now waits on the unique index, then fails.
    record = ProviderEvent.objects.create(
        provider=provider,
        event_id=event.event_id,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        payload=event.payload,
    )
    intent = _intent_id(event)
    if intent:
        _serialise(f"{provider}:{intent}")
    try:
        with transaction.atomic():
            outcome = _apply(provider, event)
    except DomainError as error:
        # The provider will not send anything better: keep the event with its reason, answer 200.
        logger.warning("%s event %s not applied: %s", provider, event.event_id, error)
        outcome = f"error:{error.code}"[:40]
    record.outcome = outcome
    record.save(update_fields=["outcome"])
    return outcome


def _serialise(key: str) -> None:
    """Make the events of one payment intent wait for each other until commit. SQLite needs nothing: its
    IMMEDIATE transactions already run one writer at a time."""
    if connection.vendor == "postgresql":
        lock_id = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def _intent_id(event: ProviderEventData) -> str | None:
    obj = event.object
    value = obj.get("id") if obj.get("object") == "payment_intent" else obj.get("payment_intent")
    return value if isinstance(value, str) and value else None


Handler = Callable[[str, ProviderEventData], str]


def _apply(provider: str, event: ProviderEventData) -> str:
    handler = HANDLERS.get(event.event_type)
    return handler(provider, event) if handler else Outcome.IGNORED


def _attempt_of(provider: str, obj: Mapping[str, Any]) -> PaymentAttempt | None:
    """The attempt an object is about, locked; None for a payment not opened here (an account shared
    with other software sends those too)."""
    metadata = obj.get("metadata")
    key = metadata.get("attempt") if isinstance(metadata, dict) else None
    if not isinstance(key, str) or not key:
        return None
    return (
        PaymentAttempt.objects.select_for_update()
        .select_related("invoice__venue")
        .filter(provider=provider, idempotency_key=key)
        .first()
    )


def _day(event: ProviderEventData, invoice: Invoice) -> date:
    return (event.occurred_at or now()).astimezone(invoice.venue.tz).date()


def _cents(obj: Mapping[str, Any], name: str) -> Decimal:
    value = obj.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedEvent(_("The event has no usable %(field)s.") % {"field": name})
    return from_minor_units(value)


def _payment_succeeded(provider: str, event: ProviderEventData) -> str:
    intent = event.object
    attempt = _attempt_of(provider, intent)
    if attempt is None:
        return Outcome.IGNORED
    intent_id = intent.get("id")
    if not isinstance(intent_id, str) or not intent_id:
        raise MalformedEvent(_("The event has no usable id."))
    if str(intent.get("currency", "")).lower() != "eur":
        raise ValidationError(_("Only payments in euros are accepted."), code="bad_currency")
    amount = _cents(intent, "amount_received")
    invoice = attempt.invoice
    payment = record_payment(
        invoice,
        amount=amount,
        method=PaymentMethod.ONLINE,
        received_on=_day(event, invoice),
        reference=f"Stripe {intent_id}" if provider == "stripe" else f"{provider} {intent_id}",
        external_id=intent_id,
    )
    if attempt.status != AttemptStatus.SUCCEEDED:
        _set_status(attempt, AttemptStatus.SUCCEEDED)
    _apply_pending(provider, payment)
    return Outcome.APPLIED


def _status_handler(status: str) -> Handler:
    def handle(provider: str, event: ProviderEventData) -> str:
        attempt = _attempt_of(provider, event.object)
        if attempt is None:
            return Outcome.IGNORED
        if attempt.status in AttemptStatus.FINAL or _newer_event_applied(provider, attempt, event):
            return Outcome.STALE
        _set_status(attempt, status)
        return Outcome.APPLIED

    return handle


def _newer_event_applied(provider: str, attempt: PaymentAttempt, event: ProviderEventData) -> bool:
    if event.occurred_at is None:
        return False
    return (
        ProviderEvent.objects.filter(
            provider=provider,
            outcome=Outcome.APPLIED,
            payload__data__object__metadata__attempt=attempt.idempotency_key,
            occurred_at__gt=event.occurred_at,
        )
        .exclude(event_id=event.event_id)
        .exists()
    )


def _set_status(attempt: PaymentAttempt, status: str) -> None:
    before = attempt.status
    attempt.status = status
    attempt.updated_at = now()
    attempt.save(update_fields=["status", "updated_at"])
    audit.record(
        "billing.payment_attempt.status",
        attempt,
        venue_id=attempt.invoice.venue_id,
        before=before,
        after=status,
    )


def _paid_by(obj: Mapping[str, Any]) -> Payment | None:
    intent = obj.get("payment_intent")
    if not isinstance(intent, str) or not intent:
        return None
    return Payment.objects.filter(
        method=PaymentMethod.ONLINE, external_id=intent, reverses__isnull=True
    ).first()


def _charge_refunded(provider: str, event: ProviderEventData) -> str:
    if not isinstance(event.object.get("payment_intent"), str):
        return Outcome.IGNORED
    payment = _paid_by(event.object)
    if payment is None:
        return Outcome.PENDING
    return _refund(payment, event)


def _refund(payment: Payment, event: ProviderEventData) -> str:
    charge = event.object
    refunded = _cents(charge, "amount_refunded")
    prefix = f"{charge.get('id')}:refund:"
    earlier = Payment.objects.filter(reverses=payment, external_id__startswith=prefix)
    done = -(earlier.aggregate(total=Sum("amount"))["total"] or ZERO)
    if refunded <= done:
        return Outcome.STALE
    reverse_payment(
        payment,
        reason=_("Refunded online"),
        on=_day(event, payment.invoice),
        amount=refunded - done,
        external_id=f"{prefix}{charge['amount_refunded']}",
    )
    return Outcome.APPLIED


def _dispute_closed(provider: str, event: ProviderEventData) -> str:
    dispute = event.object
    if not isinstance(dispute.get("payment_intent"), str):
        return Outcome.IGNORED
    payment = _paid_by(dispute)
    if payment is None:
        return Outcome.PENDING
    return _dispute(payment, event)


def _dispute(payment: Payment, event: ProviderEventData) -> str:
    dispute = event.object
    if dispute.get("status") != "lost":
        return Outcome.APPLIED  # won: the money stays, nothing to write
    reverse_payment(
        payment,
        reason=_("Dispute lost"),
        on=_day(event, payment.invoice),
        amount=_cents(dispute, "amount"),
        external_id=f"{dispute.get('id')}:lost",
    )
    return Outcome.APPLIED


def _apply_pending(provider: str, payment: Payment) -> None:
    """The refunds and disputes that arrived before this payment was recorded, oldest first."""
    waiting = ProviderEvent.objects.filter(
        provider=provider,
        outcome=Outcome.PENDING,
        payload__data__object__payment_intent=payment.external_id,
    ).order_by("occurred_at", "pk")
    for stored in waiting:
        event = ProviderEventData(
            event_id=stored.event_id,
            event_type=stored.event_type,
            occurred_at=stored.occurred_at,
            payload=stored.payload,
            object=stored.payload["data"]["object"],
        )
        apply_to_payment = _refund if stored.event_type == "charge.refunded" else _dispute
        try:
            with transaction.atomic():
                stored.outcome = apply_to_payment(payment, event)
        except DomainError as error:
            stored.outcome = f"error:{error.code}"[:40]
        stored.save(update_fields=["outcome"])


HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _payment_succeeded,
    "payment_intent.processing": _status_handler(AttemptStatus.PROCESSING),
    "payment_intent.payment_failed": _status_handler(AttemptStatus.FAILED),
    "payment_intent.canceled": _status_handler(AttemptStatus.CANCELED),
    "checkout.session.expired": _status_handler(AttemptStatus.EXPIRED),
    "charge.refunded": _charge_refunded,
    "charge.dispute.closed": _dispute_closed,
}
