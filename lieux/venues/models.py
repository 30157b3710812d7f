from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret


def validate_siret(value: str) -> None:
    if not stdnum_siret.is_valid(value):
        raise ValidationError(_("%(value)s is not a valid SIRET number."), params={"value": value})


def validate_siren(value: str) -> None:
    if not stdnum_siren.is_valid(value):
        raise ValidationError(_("%(value)s is not a valid SIREN number."), params={"value": value})


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Network(models.Model):
    """The network of venues one installation serves (MONSCOBAR for the first one)."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(unique=True)
    admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="administered_networks", blank=True, verbose_name=_("admins")
    )

    class Meta:
        verbose_name = _("network")
        verbose_name_plural = _("networks")

    def __str__(self) -> str:
        return self.name


class VatStatus(models.TextChoices):
    LIABLE = "liable", _("Liable to VAT")
    FRANCHISE = "franchise", _("VAT franchise (art. 293 B du CGI)")
    EXEMPT_MEMBERS = "exempt_members", _("Exempt for members (art. 261-7-1° a du CGI)")
    NOT_LIABLE = "not_liable", _("Non-liable association")


class Venue(models.Model):
    """A tiers-lieu: its own legal entity, time zone, opening hours and resources."""

    network = models.ForeignKey(Network, on_delete=models.PROTECT, related_name="venues")
    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    legal_name = models.CharField(_("legal name"), max_length=200)
    legal_form = models.CharField(_("legal form"), max_length=80, help_text=_("Association loi 1901, SCIC…"))
    siret = models.CharField(_("SIRET"), max_length=14, validators=[validate_siret])
    vat_status = models.CharField(_("VAT status"), max_length=20, choices=VatStatus.choices)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    street = models.CharField(_("street"), max_length=200)
    postcode = models.CharField(_("postcode"), max_length=10)
    city = models.CharField(_("city"), max_length=100, db_index=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Paris", validators=[validate_timezone]
    )
    half_day_hours = models.PositiveSmallIntegerField(
        _("half-day length (hours)"), default=4, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("venue")
        verbose_name_plural = _("venues")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def siren(self) -> str:
        return self.siret[:9]


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class OpeningHours(models.Model):
    """One opening window of a weekday, in the venue's wall time; several windows allow a lunch break."""

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["venue", "weekday", "opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="opening_hours_closes_after_opens",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class Closure(models.Model):
    """Days the venue is closed (public holidays, summer break, exceptional closing), inclusive."""

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="closures")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("to (inclusive)"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["venue", "starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="closure_ends_after_starts"
            )
        ]

    def __str__(self) -> str:
        return f"{self.venue}: {self.starts_on} → {self.ends_on} {self.reason}"


class Role(models.TextChoices):
    MANAGER = "manager", _("Manager")
    STAFF = "staff", _("Staff")
    MEMBER = "member", _("Member")


class VenueRole(models.Model):
    """What a person is at a venue. Managers and staff run it; members book at member prices."""

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="roles")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="venue_roles")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)

    class Meta:
        verbose_name = _("role at a venue")
        verbose_name_plural = _("roles at venues")
        constraints = [models.UniqueConstraint(fields=["venue", "user", "role"], name="venue_role_unique")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} @ {self.venue}"


class ResourceKind(models.TextChoices):
    ROOM = "room", _("Room")
    DESK = "desk", _("Desk")
    EQUIPMENT = "equipment", _("Equipment")


class BookableBy(models.TextChoices):
    ANYONE = "anyone", _("Anyone with an account")
    MEMBERS = "members", _("Members of the venue")
    STAFF = "staff", _("Staff only")


class Resource(models.Model):
    """Something bookable at a venue, with its own booking rules.

    A resource may have a parent: booking the hall blocks its sub-rooms and booking a sub-room blocks the
    hall (see `booking.rules.blocking_units`).
    """

    venue = models.ForeignKey(Venue, on_delete=models.PROTECT, related_name="resources")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("part of"),
    )
    slug = models.SlugField()
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=12, choices=ResourceKind.choices)
    description = models.TextField(_("description"), blank=True)
    capacity = models.PositiveSmallIntegerField(_("capacity (people)"), default=1)
    tags = models.JSONField(
        _("equipment"), default=list, blank=True, help_text=_("e.g. projector, whiteboard")
    )
    is_active = models.BooleanField(_("bookable"), default=True)
    color = models.CharField(_("colour"), max_length=7, default="#2a6f97")

    # Booking rules
    min_duration = models.DurationField(_("minimum duration"), default=timedelta(minutes=30))
    max_duration = models.DurationField(_("maximum duration"), default=timedelta(hours=12))
    granularity_minutes = models.PositiveSmallIntegerField(
        _("time step (minutes)"), default=30, validators=[MinValueValidator(5)]
    )
    max_advance_days = models.PositiveSmallIntegerField(_("bookable up to (days ahead)"), default=180)
    cancellation_deadline = models.DurationField(
        _("free cancellation until (before start)"), default=timedelta(hours=24)
    )
    buffer_before = models.DurationField(_("buffer before"), default=timedelta(0))
    buffer_after = models.DurationField(_("buffer after"), default=timedelta(0))
    approval_required = models.BooleanField(_("needs approval by staff"), default=False)
    bookable_by = models.CharField(
        _("who may book"), max_length=10, choices=BookableBy.choices, default=BookableBy.ANYONE
    )

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["venue", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["venue", "slug"], name="resource_slug_unique_per_venue"),
            models.CheckConstraint(
                condition=models.Q(max_duration__gte=models.F("min_duration")),
                name="resource_max_duration_gte_min",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.venue})"

    def clean(self) -> None:
        if self.parent_id and self.parent and self.parent.venue_id != self.venue_id:
            raise ValidationError(
                {"parent": _("A resource can only be part of a resource of the same venue.")}
            )
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk:
                raise ValidationError({"parent": _("A resource cannot be part of itself.")})
            ancestor = ancestor.parent


class PriceUnit(models.TextChoices):
    HOUR = "hour", _("per hour")
    HALF_DAY = "half_day", _("per half-day")
    DAY = "day", _("per day")


class Audience(models.TextChoices):
    MEMBER = "member", _("members")
    PUBLIC = "public", _("public")


class ResourcePrice(models.Model):
    """A price excluding VAT for one unit of time and one audience."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="prices")
    unit = models.CharField(_("unit"), max_length=10, choices=PriceUnit.choices)
    audience = models.CharField(_("for"), max_length=10, choices=Audience.choices)
    net_amount = models.DecimalField(
        _("price excl. VAT (€)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        constraints = [
            models.UniqueConstraint(fields=["resource", "unit", "audience"], name="resource_price_unique")
        ]

    def __str__(self) -> str:
        return f"{self.net_amount} € {self.get_unit_display()} ({self.get_audience_display()})"
