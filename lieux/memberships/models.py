"""Offers (plans and their price steps), subscriptions with their event log, and booking credits.

A subscription moves through an explicit state machine (rules.states.TRANSITIONS); every transition,
invoice and payment is written to SubscriptionEvent. Credits are lots granted per period and consumed
through a ledger, so a balance is always the sum of its entries and can be explained line by line.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from lieux.core.time import now


class PlanKind(models.TextChoices):
    MEMBERSHIP_FEE = "membership_fee", _("Membership fee")
    SUBSCRIPTION = "subscription", _("Coworking subscription")
    DAY_PASS = "day_pass", _("Day pass")
    PACK = "pack", _("Prepaid pack")


class Interval(models.TextChoices):
    MONTH = "month", _("Monthly")
    YEAR = "year", _("Yearly")
    ONCE = "once", _("Once")


class Proration(models.TextChoices):
    NONE = "none", _("No proration: full periods")
    BY_DAY = "by_day", _("By day")


class DeskMode(models.TextChoices):
    NONE = "none", _("No desk")
    FLEXIBLE = "flexible", _("Flexible desk")
    FIXED = "fixed", _("Fixed desk")


class Plan(models.Model):
    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="plans")
    slug = models.SlugField()
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=PlanKind.choices)
    interval = models.CharField(_("billing interval"), max_length=8, choices=Interval.choices)
    vat_rate = models.DecimalField(_("VAT rate (%)"), max_digits=5, decimal_places=2, default=Decimal(20))
    trial_days = models.PositiveSmallIntegerField(_("trial days"), default=0)
    commitment_months = models.PositiveSmallIntegerField(_("commitment (months)"), default=0)
    notice_days = models.PositiveSmallIntegerField(_("notice period (days)"), default=0)
    proration = models.CharField(_("proration"), max_length=8, choices=Proration.choices, default="none")
    desk_mode = models.CharField(_("desk"), max_length=8, choices=DeskMode.choices, default=DeskMode.NONE)
    # Packs and day passes: how many days they hold and how long they stay valid.
    pack_days = models.PositiveSmallIntegerField(_("days in the pack"), null=True, blank=True)
    validity_days = models.PositiveSmallIntegerField(_("validity (days)"), null=True, blank=True)
    # Members of the venue's association may be exempt from VAT (art. 261-7-1° a): plans say if they are
    # sold to members only.
    members_only = models.BooleanField(_("members only"), default=False)
    is_active = models.BooleanField(_("on sale"), default=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["venue", "kind", "name"]
        constraints = [models.UniqueConstraint(fields=["venue", "slug"], name="plan_slug_unique_per_venue")]

    def __str__(self) -> str:
        return self.name


class PlanPrice(models.Model):
    """A price step: from `starts_on` the plan costs `net_amount` per interval (e.g. a solidarity rate
    until June, then the full rate)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="prices")
    starts_on = models.DateField(_("from"))
    net_amount = models.DecimalField(
        _("price excl. VAT"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )
    label = models.CharField(_("label"), max_length=80, blank=True)

    class Meta:
        ordering = ["plan", "starts_on"]
        constraints = [models.UniqueConstraint(fields=["plan", "starts_on"], name="one_price_per_step")]

    def __str__(self) -> str:
        return f"{self.net_amount} € from {self.starts_on}"


class CreditType(models.Model):
    """A kind of booking credit, e.g. "meeting-room hours" or "coworking days"."""

    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="credit_types")
    code = models.SlugField()
    name = models.CharField(_("name"), max_length=80)

    class Meta:
        verbose_name = _("credit type")
        verbose_name_plural = _("credit types")
        constraints = [models.UniqueConstraint(fields=["venue", "code"], name="credit_type_code_unique")]

    def __str__(self) -> str:
        return self.name


class CreditRate(models.Model):
    """The conversion table: how many credits one hour of a resource costs."""

    credit_type = models.ForeignKey(CreditType, on_delete=models.CASCADE, related_name="rates")
    resource = models.ForeignKey("venues.Resource", on_delete=models.CASCADE, related_name="credit_rates")
    credits_per_hour = models.DecimalField(max_digits=6, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["credit_type", "resource"], name="one_credit_rate_per_resource")
        ]

    def __str__(self) -> str:
        return f"{self.credits_per_hour}/h"


class Rollover(models.TextChoices):
    RESET = "reset", _("Reset each period")
    CARRY = "carry", _("Carried over until they expire")


class CreditGrant(models.Model):
    """What a plan grants each period."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="credit_grants")
    credit_type = models.ForeignKey(CreditType, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])
    rollover = models.CharField(max_length=8, choices=Rollover.choices, default=Rollover.RESET)
    carry_months = models.PositiveSmallIntegerField(
        _("carried credits expire after (months)"), default=0, help_text=_("Only for carried-over credits")
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "credit_type"], name="one_grant_per_credit_type")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.credit_type_id}"


class SubscriptionStatus(models.TextChoices):
    TRIAL = "trial", _("Trial")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    CANCELLING = "cancelling", _("Ends at period end")
    PAST_DUE = "past_due", _("Past due")
    ENDED = "ended", _("Ended")


class Subscription(models.Model):
    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscriptions"
    )
    payer_organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions"
    )
    status = models.CharField(_("status"), max_length=10, choices=SubscriptionStatus.choices)
    started_on = models.DateField(_("started on"))
    trial_ends_on = models.DateField(null=True, blank=True)
    current_period_start = models.DateField()
    current_period_end = models.DateField(help_text=_("Last day of the current period (inclusive)"))
    # Periods are counted from this day (rules.periods): the start date, the day after a trial, the day a
    # paused subscription resumed after its period, or the first day of a plan with another interval.
    # Empty on rows written without it: the first paid day then applies.
    billing_anchor_on = models.DateField(_("periods counted from"), null=True, blank=True)
    commitment_ends_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    paused_on = models.DateField(null=True, blank=True)
    next_plan = models.ForeignKey(
        Plan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("From next period"),
    )
    desk = models.ForeignKey(
        "venues.Resource", null=True, blank=True, on_delete=models.PROTECT, related_name="desk_subscriptions"
    )
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-started_on", "-id"]
        indexes = [models.Index(fields=["venue", "status"]), models.Index(fields=["member", "status"])]

    def __str__(self) -> str:
        return f"{self.plan} — {self.member}"


class SubscriptionEvent(models.Model):
    """The subscription's log: every transition, invoice and payment, in order."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=now)
    kind = models.CharField(max_length=30)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.kind


class SubscriptionInvoice(models.Model):
    """One invoice per (subscription, period): the unique constraint is what makes the billing run safe
    to kill and restart."""

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="period_invoices")
    period_start = models.DateField()
    period_end = models.DateField()
    invoice = models.OneToOneField(
        "billing.Invoice", on_delete=models.PROTECT, related_name="subscription_link"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "period_start"], name="one_invoice_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id}@{self.period_start}"


class CreditLot(models.Model):
    """Credits granted at once (a period's allowance, a pack, a payout) with their expiry."""

    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="credit_lots")
    credit_type = models.ForeignKey(CreditType, on_delete=models.PROTECT, related_name="lots")
    granted = models.DecimalField(max_digits=8, decimal_places=2)
    remaining = models.DecimalField(max_digits=8, decimal_places=2)
    granted_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    # "subscription:7:2026-12-01", "pack:12": granting twice for the same source is refused.
    source_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["expires_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(remaining__gte=0) & models.Q(remaining__lte=models.F("granted")),
                name="credit_lot_remaining_in_range",
            )
        ]
        indexes = [models.Index(fields=["person", "credit_type", "expires_on"])]

    def __str__(self) -> str:
        return self.source_key


class CreditEntryKind(models.TextChoices):
    GRANT = "grant", _("Granted")
    CONSUME = "consume", _("Used")
    REFUND = "refund", _("Given back")
    EXPIRE = "expire", _("Expired")


class CreditEntry(models.Model):
    """One line of the credit ledger; `quantity` is signed. A lot's remaining = sum of its entries."""

    lot = models.ForeignKey(CreditLot, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=8, choices=CreditEntryKind.choices)
    quantity = models.DecimalField(max_digits=8, decimal_places=2)
    at = models.DateTimeField(default=now)
    # What used or returned the credits, e.g. "booking:42".
    reference = models.CharField(max_length=120, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["reference"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity}"


class HelloAssoOrder(models.Model):
    """A HelloAsso order already recorded: re-running an import finds it here and changes nothing."""

    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="+")
    order_id = models.CharField(max_length=40)
    form_slug = models.CharField(max_length=120)
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(default=now)
    payload = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["venue", "order_id"], name="helloasso_order_once")]

    def __str__(self) -> str:
        return self.order_id
