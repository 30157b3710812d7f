"""The clearing's records: the keys a network votes, and per month one statement with its inputs, its
settlement lines per venue, the transfers left after netting and the invoices they became.

A statement keeps everything needed to recompute and explain it (the visit matrix and the credits used at
a partner as JSON, a copy of its key). Once closed, the month is a legal record: the ORM refuses to change
it and the database too (triggers, migration 0002). A key can no longer change once a statement used it.
"""

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lieux.core.errors import Conflict
from lieux.core.time import now


class ClearingMethod(models.TextChoices):
    PER_VISIT = "per_visit", _("Price per visit")
    PER_HALF_DAY = "per_half_day", _("Price per half-day")
    REVENUE_SHARE = "revenue_share", _("Share of the pass revenue, in proportion to visits")


class ClearingKey(models.Model):
    """One version of the rule the network voted to value visits between its venues."""

    network = models.ForeignKey("venues.Network", on_delete=models.PROTECT, related_name="clearing_keys")
    version = models.PositiveIntegerField(_("version"))
    method = models.CharField(
        pgettext_lazy("clearing key", "method"), max_length=16, choices=ClearingMethod.choices
    )
    unit_price = models.DecimalField(
        _("unit price (excl. VAT)"),
        max_digits=12,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("Per visit or per half-day, depending on the method"),
    )
    revenue_share_percent = models.DecimalField(
        _("share of the pass revenue (%)"),
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    free_allowance = models.PositiveIntegerField(
        _("free reciprocity allowance"),
        default=0,
        help_text=_("Difference in visits between two venues, per month, that nobody pays for"),
    )
    cap_per_pair = models.DecimalField(
        _("cap per pair of venues and month"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    voted_on = models.DateField(_("voted on"))
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("clearing key")
        verbose_name_plural = _("clearing keys")
        ordering = ["network", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["network", "version"], name="clearing_key_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.network} v{self.version} ({self.get_method_display()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The database refuses it too (migration 0002); this gives a clear error first.
        if self.is_used:
            raise Conflict(_("This key was used by a statement: vote a new version."), code="key_used")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_used:
            raise Conflict(_("This key was used by a statement: vote a new version."), code="key_used")
        return super().delete(*args, **kwargs)

    @property
    def is_used(self) -> bool:
        return bool(self.pk) and ClearingStatement.objects.filter(key_id=self.pk).exists()


class StatementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CLOSED = "closed", pgettext_lazy("accounting period", "Closed")


class ClearingStatement(models.Model):
    """The clearing of one network for one month. Recomputed while a draft; frozen once closed."""

    network = models.ForeignKey(
        "venues.Network", on_delete=models.PROTECT, related_name="clearing_statements"
    )
    month = models.DateField(_("month"), help_text=_("First day of the month cleared"))
    key = models.ForeignKey(ClearingKey, on_delete=models.PROTECT, related_name="statements")
    # The key as it was applied, so the statement reads alone even in an export.
    key_snapshot = models.JSONField(default=dict)
    # {"cells": [[home_id, host_id, visits, half_days], ...], "venues": {id: name},
    #  "pass_revenue": {id: "12.00"}, "credits": [[payer_id, payee_id, bookings, "12.00"], ...],
    #  "credit_bookings": 3}; statements written before credits were valued have no "credits" (none).
    inputs = models.JSONField(default=dict)
    status = models.CharField(
        _("status"), max_length=8, choices=StatementStatus.choices, default=StatementStatus.DRAFT
    )
    visits = models.PositiveIntegerField(_("cross-venue visits"), default=0)
    cleared_amount = models.DecimalField(_("amount transferred"), max_digits=12, decimal_places=2, default=0)
    computed_at = models.DateTimeField(_("computed at"), default=now)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("clearing statement")
        verbose_name_plural = _("clearing statements")
        ordering = ["network", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["network", "month"], name="one_clearing_statement_per_month"),
        ]

    def __str__(self) -> str:
        return f"{self.network} {self.month:%Y-%m}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._closed_in_database():
            raise Conflict(
                _("This month is closed: its statement can no longer change."), code="month_closed"
            )
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self._closed_in_database():
            raise Conflict(
                _("This month is closed: its statement can no longer change."), code="month_closed"
            )
        return super().delete(*args, **kwargs)

    @property
    def is_closed(self) -> bool:
        return self.status == StatementStatus.CLOSED

    def _closed_in_database(self) -> bool:
        return bool(self.pk) and type(self).objects.filter(pk=self.pk, status=StatementStatus.CLOSED).exists()


class SettlementLine(models.Model):
    """What one venue owes and is owed in the month, before and after netting."""

    statement = models.ForeignKey(ClearingStatement, on_delete=models.CASCADE, related_name="lines")
    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="+")
    visits_out = models.PositiveIntegerField(_("visits of its members elsewhere"), default=0)
    visits_in = models.PositiveIntegerField(_("visits received"), default=0)
    gross_owed = models.DecimalField(_("owed"), max_digits=12, decimal_places=2, default=0)
    gross_due = models.DecimalField(_("due to it"), max_digits=12, decimal_places=2, default=0)
    net = models.DecimalField(
        _("net balance"), max_digits=12, decimal_places=2, default=0, help_text=_("Positive: it receives")
    )

    class Meta:
        verbose_name = _("settlement line")
        verbose_name_plural = _("settlement lines")
        ordering = ["statement", "venue__name"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "venue"], name="one_settlement_line_per_venue"),
        ]

    def __str__(self) -> str:
        return f"{self.statement} {self.venue_id}: {self.net}"


class Transfer(models.Model):
    """A payment left to make after multilateral netting, and the invoice the creditor issued for it."""

    statement = models.ForeignKey(ClearingStatement, on_delete=models.CASCADE, related_name="transfers")
    debtor = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="+")
    creditor = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount (excl. VAT)"), max_digits=12, decimal_places=2)
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["statement", "-amount"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "debtor", "creditor"], name="one_transfer_per_pair"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="transfer_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.debtor_id} → {self.creditor_id}: {self.amount}"
