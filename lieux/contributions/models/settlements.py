from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lieux.core.time import now


class CreditSettlement(models.Model):
    """The budget paying a venue, against the venue's invoice, for network credit it issued there: the
    venue honours the room time, the budget that kept the grant's cash pays for it. Posted to the ledger
    under the same `key` (services.settlements)."""

    budget = models.ForeignKey(
        "contributions.Budget", on_delete=models.PROTECT, related_name="credit_settlements"
    )
    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount (€)"), max_digits=12, decimal_places=2)
    reference = models.CharField(_("the venue's invoice number"), max_length=60)
    settled_on = models.DateField(_("paid on"))
    key = models.CharField(max_length=120, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("credit settlement")
        verbose_name_plural = _("credit settlements")
        ordering = ["-settled_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="credit_settlement_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.venue_id} {self.amount} € ({self.reference})"
