from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from lieux.core.time import now


class CreditConversion(models.Model):
    """What the collective says a euro of validated request buys in a venue's booking credit
    (« 1 journée de coworking à Baraka = 15 € »). The offers of every venue make network credit usable
    anywhere: the contributor picks where."""

    network = models.ForeignKey("venues.Network", on_delete=models.PROTECT, related_name="credit_conversions")
    credit_type = models.ForeignKey("memberships.CreditType", on_delete=models.PROTECT, related_name="+")
    euros_per_credit = models.DecimalField(
        _("euros per credit"), max_digits=8, decimal_places=2, validators=[MinValueValidator(0)]
    )
    validity_months = models.PositiveSmallIntegerField(_("valid for (months)"), default=12)
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("credit conversion")
        verbose_name_plural = _("credit conversions")
        constraints = [
            models.UniqueConstraint(fields=["network", "credit_type"], name="one_conversion_per_credit_type"),
            models.CheckConstraint(
                condition=models.Q(euros_per_credit__gt=0), name="conversion_rate_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.credit_type_id}: {self.euros_per_credit} €"


class PayoutMethod(models.TextChoices):
    EUROS = "euros", _("Euros")
    CREDIT = "credit", _("Network credit")


class Payout(models.Model):
    """A rétribution: validated requests of one person paid together, in euros against an invoice from
    the person or their structure, or in booking credit at a venue of the contributor's choice."""

    budget = models.ForeignKey("contributions.Budget", on_delete=models.PROTECT, related_name="payouts")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts")
    method = models.CharField(_("paid in"), max_length=6, choices=PayoutMethod.choices)
    amount = models.DecimalField(_("amount (€)"), max_digits=12, decimal_places=2)
    paid_on = models.DateField(_("paid on"))
    # Euros: the invoice the contributor (or the structure they bill through) sent.
    invoice_reference = models.CharField(_("their invoice number"), max_length=60, blank=True)
    paid_to = models.CharField(_("paid to"), max_length=160, blank=True)
    # Credit: what was granted, through the memberships credit ledger.
    conversion = models.ForeignKey(
        CreditConversion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    credit_quantity = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    credit_lot = models.ForeignKey(
        "memberships.CreditLot", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    key = models.CharField(max_length=120, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["-paid_on", "-pk"]
        # A budget page lists its latest payouts: without it, every payout of a long budget is sorted.
        indexes = [models.Index(fields=["budget", "-paid_on", "-id"], name="payout_budget_latest")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(method="euros", conversion__isnull=True)
                | models.Q(method="credit", conversion__isnull=False, credit_quantity__gt=0),
                name="payout_credit_has_conversion",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.amount} € {self.method}"
