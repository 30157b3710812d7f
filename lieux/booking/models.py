import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from lieux.core.time import now


class Status(models.TextChoices):
    HELD = "held", _("Held while being completed")
    PENDING = "pending", _("Awaiting approval")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")
    REFUSED = "refused", _("Refused")
    EXPIRED = "expired", _("Hold expired")


# Statuses that keep their slot: a pending request blocks it too, so staff can never approve two
# overlapping requests.
BLOCKING_STATUSES = (Status.HELD, Status.PENDING, Status.CONFIRMED)


class ConflictPolicy(models.TextChoices):
    SKIP = "skip", _("Book the free occurrences and report the others")
    ALL_OR_NOTHING = "all_or_nothing", _("Book all occurrences or none")


class Frequency(models.TextChoices):
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every week")
    MONTHLY = "monthly", _("Every month")


class BookingSeries(models.Model):
    """A recurring booking as the person asked for it; its occurrences are ordinary bookings."""

    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="+")
    resource = models.ForeignKey("venues.Resource", on_delete=models.PROTECT, related_name="series")
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    interval = models.PositiveSmallIntegerField(default=1)
    count = models.PositiveSmallIntegerField(null=True, blank=True)
    until_on = models.DateField(null=True, blank=True)
    weekdays = models.JSONField(default=list, blank=True)
    exceptions = models.JSONField(default=list, blank=True)
    policy = models.CharField(max_length=16, choices=ConflictPolicy.choices)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("recurring booking")
        verbose_name_plural = _("recurring bookings")

    def __str__(self) -> str:
        return f"{self.get_frequency_display()} — {self.resource}"


class Booking(models.Model):
    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="bookings")
    resource = models.ForeignKey("venues.Resource", on_delete=models.PROTECT, related_name="bookings")
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings")
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    series = models.ForeignKey(
        BookingSeries, null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    starts_at = models.DateTimeField(_("start"))
    ends_at = models.DateTimeField(_("end"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    quoted_net_amount = models.DecimalField(
        _("estimated price excl. VAT"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    # Booking credits spent on it (memberships ledger, reference "booking:<id>") and what is left to bill:
    # the uncovered share of the quoted price. None when the booking has no price.
    credits_used = models.DecimalField(_("credits used"), max_digits=8, decimal_places=2, default=Decimal(0))
    billable_net_amount = models.DecimalField(
        _("billable excl. VAT"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    # Pass Interlieux terms (booking.partners): the home venue whose pass set them, the discount it took
    # off the host's public rate (None: none lowered the price) and, when the booking is paid with another
    # venue's credits, that venue (None: the booking's own venue, or no credits). The credits keep their
    # venue so the clearing between venues can value them; `credits_used` says how many are still spent.
    partner_venue = models.ForeignKey(
        "venues.Venue",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("Pass Interlieux of"),
    )
    partner_discount_percent = models.DecimalField(
        _("Pass Interlieux discount (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    credits_venue = models.ForeignKey(
        "venues.Venue",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("credits of"),
    )
    # A fixed-desk subscription's booking of its desk: kept in step with the subscription, not by hand.
    subscription = models.ForeignKey(
        "memberships.Subscription",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="desk_bookings",
    )
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(default=now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["resource", "starts_at"]),
            models.Index(fields=["venue", "starts_at"]),
            models.Index(fields=["booked_by", "starts_at"]),
            models.Index(
                fields=["hold_expires_at"], condition=Q(status="held"), name="booking_live_holds_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="booking_ends_after_starts"),
            models.CheckConstraint(
                condition=~Q(status="held") | Q(hold_expires_at__isnull=False), name="booking_hold_has_expiry"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} — {self.resource.name} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_blocking(self) -> bool:
        return self.status in BLOCKING_STATUSES


class Occupancy(models.Model):
    """The time a booking takes from one bookable unit, buffers included.

    A booking writes one row per leaf resource it covers (the hall: one per sub-room). The database
    refuses two active rows of one unit whose intervals overlap: an exclusion constraint on PostgreSQL,
    triggers on SQLite (migration 0002). Intervals are half-open, [starts_at, ends_at).
    """

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="occupancies")
    resource = models.ForeignKey("venues.Resource", on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    is_active = models.BooleanField(default=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["resource", "starts_at", "ends_at"],
                condition=Q(is_active=True),
                name="occupancy_active_idx",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="occupancy_ends_after_starts"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} [{self.starts_at}, {self.ends_at})"


class BookingInvoice(models.Model):
    """The invoice of a booking's billable remainder: one at most, so the billing run never bills twice."""

    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, related_name="invoice_link")
    invoice = models.OneToOneField("billing.Invoice", on_delete=models.PROTECT, related_name="booking_link")
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("booking invoice")
        verbose_name_plural = _("booking invoices")

    def __str__(self) -> str:
        return f"{self.booking_id} → {self.invoice_id}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class FeedScope(models.TextChoices):
    RESOURCE = "resource", _("a resource")
    VENUE = "venue", _("a venue")
    PERSON = "person", _("my bookings")


class CalendarFeed(models.Model):
    """A secret iCalendar URL. It shows what its owner may see, and can be revoked by rotating it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    scope = models.CharField(max_length=10, choices=FeedScope.choices)
    venue = models.ForeignKey(
        "venues.Venue", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    resource = models.ForeignKey(
        "venues.Resource", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.owner} — {self.get_scope_display()}"
