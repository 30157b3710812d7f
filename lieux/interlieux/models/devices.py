from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lieux.core.time import now


class DoorDevice(models.Model):
    """A reader at a door of one venue. It authenticates with its own token, of which only a SHA-256
    digest is stored: the token is shown once, when the device is registered."""

    venue = models.ForeignKey("venues.Venue", on_delete=models.PROTECT, related_name="door_devices")
    name = models.CharField(_("name"), max_length=80)
    token_digest = models.CharField(max_length=64, unique=True)
    token_hint = models.CharField(
        max_length=8, blank=True, help_text=_("First characters, to tell tokens apart")
    )
    created_at = models.DateTimeField(default=now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_seen_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("door device")
        verbose_name_plural = _("door devices")
        ordering = ["venue", "name"]

    def __str__(self) -> str:
        return self.name


class CredentialKind(models.TextChoices):
    BADGE = "badge", _("RFID badge")
    QR = "qr", _("QR code")
    KIOSK = "kiosk", _("Reception desk")
    OFFLINE = "offline", _("Door offline, uploaded later")
    UNKNOWN = "unknown", _("Unrecognised")


class AccessAudit(models.Model):
    """Every access check, allowed or not: which device, what kind of credential, the outcome and its
    reason. Ids only, no names: the audit trail of a door is not a directory of people."""

    at = models.DateTimeField(default=now, db_index=True)
    venue = models.ForeignKey("venues.Venue", null=True, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(DoorDevice, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    credential_kind = models.CharField(max_length=8, choices=CredentialKind.choices)
    allowed = models.BooleanField()
    reason = models.CharField(max_length=32)
    person_id_seen = models.BigIntegerField(null=True, blank=True)
    badge = models.ForeignKey(
        "interlieux.Badge", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    anomaly = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("access check")
        verbose_name_plural = _("access checks")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["badge", "at"], name="access_audit_badge_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.reason}"


class OfflinePassage(models.Model):
    """A passage a door recorded while offline, kept by the id the device gave it: uploading the same
    batch twice (or fifty times at once) records each passage once."""

    device = models.ForeignKey(DoorDevice, on_delete=models.CASCADE, related_name="offline_passages")
    passage_id = models.CharField(max_length=64)
    seen_at = models.DateTimeField()
    received_at = models.DateTimeField(default=now)
    outcome = models.CharField(max_length=32)
    visit = models.ForeignKey(
        "interlieux.Visit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "passage_id"], name="one_offline_passage_per_device_id")
        ]

    def __str__(self) -> str:
        return self.passage_id
