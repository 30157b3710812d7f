"""Money received against invoices, SEPA mandates and direct debits, and the bookkeeping that makes
payment providers safe to retry: idempotency keys stored before the call, webhook events stored once."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lieux.core.time import now


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    CHEQUE = "cheque", _("Cheque")
    CASH = "cash", _("Cash")
    CARD_TERMINAL = "card_terminal", _("Card terminal")
    SEPA_DEBIT = "sepa_debit", _("SEPA direct debit")
    ONLINE = "online", _("Online payment")
    HELLOASSO = "helloasso", _("HelloAsso")


class Payment(models.Model):
    """One movement of money for one invoice. Append-only: a rejected debit or a refund is a new row with
    a negative amount pointing at the row it reverses, so the history stays readable."""

    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="payments")
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    received_on = models.DateField(_("received on"))
    reference = models.CharField(_("reference"), max_length=140, blank=True)
    # Provider-side id (Stripe PaymentIntent, HelloAsso payment, SEPA end-to-end id): one row per id.
    external_id = models.CharField(max_length=140, null=True, blank=True)  # noqa: DJ001 - NULLs never collide
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["received_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["method", "external_id"], name="payment_external_id_once"),
            models.CheckConstraint(condition=~models.Q(amount=0), name="payment_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} € ({self.method})"


class MandateStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    REVOKED = "revoked", _("Revoked")


class Mandate(models.Model):
    """A signed SEPA Core direct-debit mandate. Its reference (RUM) is unique for the creditor."""

    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="mandates")
    debtor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="mandates"
    )
    debtor_organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="mandates"
    )
    reference = models.CharField(_("mandate reference (RUM)"), max_length=35)
    debtor_name = models.CharField(_("account holder"), max_length=70)
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11)
    signed_on = models.DateField(_("signed on"))
    status = models.CharField(max_length=8, choices=MandateStatus.choices, default=MandateStatus.ACTIVE)
    # A mandate's first collection is FRST, the following ones RCUR (until the 2026 rulebook merges them).
    first_collected_on = models.DateField(null=True, blank=True)
    revoked_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("SEPA mandate")
        verbose_name_plural = _("SEPA mandates")
        constraints = [
            models.UniqueConstraint(fields=["venue", "reference"], name="mandate_reference_unique")
        ]

    def __str__(self) -> str:
        return self.reference


class DirectDebitBatch(models.Model):
    """One pain.008 file handed to the bank."""

    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="debit_batches")
    message_id = models.CharField(max_length=35, unique=True)
    collection_on = models.DateField(_("collection date"))
    xml = models.TextField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return self.message_id


class DirectDebitStatus(models.TextChoices):
    ANNOUNCED = "announced", _("Pre-notified")
    SUBMITTED = "submitted", _("In a batch")
    COLLECTED = "collected", _("Collected")
    RETURNED = "returned", _("Returned")


class DirectDebit(models.Model):
    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, related_name="direct_debits")
    mandate = models.ForeignKey(Mandate, on_delete=models.PROTECT, related_name="debits")
    batch = models.ForeignKey(
        DirectDebitBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="debits"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    collection_on = models.DateField()
    end_to_end_id = models.CharField(max_length=35, unique=True)
    sequence_type = models.CharField(max_length=4)
    status = models.CharField(max_length=10, choices=DirectDebitStatus.choices, default="announced")
    prenotified_at = models.DateTimeField(null=True, blank=True)
    return_reason = models.CharField(
        max_length=8, blank=True, help_text=_("ISO 20022 reason code, e.g. AM04")
    )
    returned_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            # An invoice is debited once at a time: a new attempt only after a return.
            models.UniqueConstraint(
                fields=["invoice"],
                condition=~models.Q(status="returned"),
                name="one_live_debit_per_invoice",
            )
        ]

    def __str__(self) -> str:
        return self.end_to_end_id


class PaymentAttempt(models.Model):
    """An online charge, written before the provider is called. Its idempotency key is derived from the
    invoice and the attempt number, so a retried call after a crash is recognised by the provider."""

    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, related_name="payment_attempts")
    provider = models.CharField(max_length=20)
    attempt_no = models.PositiveSmallIntegerField()
    idempotency_key = models.CharField(max_length=80, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    provider_reference = models.CharField(max_length=140, blank=True)
    status = models.CharField(max_length=20, default="created")
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["invoice", "provider", "attempt_no"], name="payment_attempt_once")
        ]

    def __str__(self) -> str:
        return self.idempotency_key


class ProviderEvent(models.Model):
    """A webhook event, stored in the transaction that applies it: a second delivery finds it and stops."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=140)
    event_type = models.CharField(max_length=80)
    occurred_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=now)
    outcome = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


class Reminder(models.Model):
    """An overdue reminder sent for an invoice; one per level, so the schedule never sends one twice."""

    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, related_name="reminders")
    level = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["invoice", "level"], name="one_reminder_per_level")]

    def __str__(self) -> str:
        return f"{self.invoice_id}#{self.level}"
