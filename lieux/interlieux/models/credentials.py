from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lieux.core.time import now


class PassHolder(models.Model):
    """The public identifier of a person on the network: what QR codes and allow-lists carry instead of an
    e-mail or a database id. Random, stable, and meaningless outside this installation."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pass_holder"
    )
    public_id = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("pass holder")
        verbose_name_plural = _("pass holders")

    def __str__(self) -> str:
        return self.public_id


class Badge(models.Model):
    """An RFID card registered to a person. Its UID is an identifier, never a secret: UIDs are printed on
    cards, readable by any phone and copied onto blank cards in seconds. A badge proves nothing alone; the
    anomaly log is how copies get noticed."""

    uid = models.CharField(_("card UID"), max_length=32, help_text=_("Hexadecimal, as the reader gives it"))
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="badges")
    issued_by = models.ForeignKey(
        "venues.Venue", on_delete=models.PROTECT, related_name="issued_badges", verbose_name=_("issued by")
    )
    label = models.CharField(_("label"), max_length=80, blank=True)
    issued_at = models.DateTimeField(_("issued"), default=now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("badge")
        verbose_name_plural = _("badges")
        ordering = ["-issued_at"]
        constraints = [
            # A card in use belongs to one person; a revoked card may be given again later.
            models.UniqueConstraint(
                fields=["uid"], condition=models.Q(revoked_at__isnull=True), name="one_live_badge_per_uid"
            )
        ]
        indexes = [models.Index(fields=["uid"], name="badge_uid")]

    def __str__(self) -> str:
        return self.uid

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
