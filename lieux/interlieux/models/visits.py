from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lieux.core.time import now


class VisitSource(models.TextChoices):
    BADGE = "badge", _("RFID badge")
    QR = "qr", _("QR code")
    KIOSK = "kiosk", _("Reception desk")
    OFFLINE = "offline", _("Door offline, uploaded later")


class Visit(models.Model):
    """One person at one host venue on one local day, with the first and the last passage: scanning again
    the same day moves `last_seen_at`, it never adds a visit (a unique constraint, not a hope)."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="visits")
    venue = models.ForeignKey(
        "venues.Venue", on_delete=models.PROTECT, related_name="visits", verbose_name=_("host venue")
    )
    # The venue whose pass or subscription let the person in: the clearing's row of the visit matrix.
    # Equal to `venue` for a member at their own venue.
    home_venue = models.ForeignKey(
        "venues.Venue", on_delete=models.PROTECT, related_name="+", verbose_name=_("home venue")
    )
    subscription = models.ForeignKey(
        "memberships.Subscription", null=True, blank=True, on_delete=models.PROTECT, related_name="visits"
    )
    day = models.DateField(_("day"), help_text=_("Local day at the host venue"))
    first_seen_at = models.DateTimeField(_("first passage"))
    last_seen_at = models.DateTimeField(_("last passage"))
    passages = models.PositiveIntegerField(default=1)
    source = models.CharField(max_length=8, choices=VisitSource.choices)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-day", "venue_id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "venue", "day"], name="one_visit_per_person_venue_day"),
            models.CheckConstraint(
                condition=models.Q(last_seen_at__gte=models.F("first_seen_at")), name="visit_seen_in_order"
            ),
        ]
        indexes = [
            models.Index(fields=["day", "home_venue", "venue"], name="visit_matrix"),
            models.Index(fields=["person", "day"], name="visit_person_day"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}@{self.venue_id} {self.day}"
