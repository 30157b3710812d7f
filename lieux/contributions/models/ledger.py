from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lieux.core.time import now


class Account(models.TextChoices):
    """The accounts of a budget's double-entry ledger. Debits are positive, credits negative, and the
    entries of one transaction sum to zero."""

    RECEIVABLE = "receivable", _("Promised by funders, not received yet")
    ENVELOPE = "envelope", _("Envelope left to validate")
    CASH = "cash", _("Cash in hand")
    OWED = "owed", _("Owed to contributors")
    CREDIT_ISSUED = "credit_issued", _("Network credit issued, owed to the venue that honours it")


class TransactionKind(models.TextChoices):
    FUNDING = "funding", _("Funding committed")
    RECEIPT = "receipt", _("Cash received")
    VALIDATION = "validation", _("Request validated")
    PAYOUT_EUROS = "payout_euros", _("Paid in euros")
    PAYOUT_CREDIT = "payout_credit", _("Paid in network credit")
    REDUCTION = "reduction", _("Reduced at closing")
    # The value fits the 14 characters of the kind columns.
    CREDIT_SETTLEMENT = "credit_settled", _("Credit settled to the venue that honours it")


class LedgerTransaction(models.Model):
    """One movement of a budget's money, written once: `key` makes every posting idempotent (replaying a
    validation or a payout posts nothing twice)."""

    budget = models.ForeignKey("contributions.Budget", on_delete=models.PROTECT, related_name="transactions")
    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=14, choices=TransactionKind.choices)
    at = models.DateTimeField(default=now)
    memo = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["budget", "at"], name="ledger_budget_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class LedgerEntry(models.Model):
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    # Denormalised from the transaction so a budget's balances are one indexed GROUP BY.
    budget = models.ForeignKey("contributions.Budget", on_delete=models.PROTECT, related_name="+")
    account = models.CharField(max_length=14, choices=Account.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    venue = models.ForeignKey(
        "venues.Venue", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["budget", "account"], name="ledger_budget_account")]
        constraints = [models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_entry_not_zero")]

    def __str__(self) -> str:
        return f"{self.account} {self.amount}"
