from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from lieux.core.time import now

ALL_WEEKDAYS = "0123456"


class NetworkAccess(models.Model):
    """What a plan sold by its home venue grants across the network: the host venues, the week days and
    hours, how many days a month at each host, and the terms of bookings at partner venues.

    A plan without this row grants entry to its own venue only. A venue-level plan joins the network by
    getting one."""

    plan = models.OneToOneField(
        "memberships.Plan", on_delete=models.CASCADE, related_name="network_access", verbose_name=_("plan")
    )
    host_venues = models.ManyToManyField(
        "venues.Venue", related_name="network_accesses", verbose_name=_("host venues")
    )
    # Monday = 0, as in datetime.weekday(); "0123456" is every day.
    weekdays = models.CharField(_("days of the week"), max_length=7, default=ALL_WEEKDAYS)
    starts_at = models.TimeField(_("from"), null=True, blank=True, help_text=_("Empty: the venue's hours"))
    ends_at = models.TimeField(_("until"), null=True, blank=True, help_text=_("Empty: the venue's hours"))
    days_per_month = models.PositiveSmallIntegerField(
        _("days per month at each host venue"), null=True, blank=True, help_text=_("Empty: unlimited")
    )
    booking_discount_percent = models.DecimalField(
        _("booking discount at partner venues (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    partner_bookings_use_credits = models.BooleanField(
        _("bookings at partner venues may be paid with credits"), default=False
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("network access")
        verbose_name_plural = _("network accesses")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(booking_discount_percent__gte=0, booking_discount_percent__lte=100),
                name="network_access_discount_is_a_percentage",
            ),
            models.CheckConstraint(
                condition=models.Q(starts_at__isnull=True, ends_at__isnull=True)
                | models.Q(starts_at__isnull=False, ends_at__isnull=False, starts_at__lt=models.F("ends_at")),
                name="network_access_window_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}: network"

    @property
    def weekday_numbers(self) -> frozenset[int]:
        return frozenset(int(c) for c in self.weekdays if c.isdigit() and int(c) < 7)
