from django.db import models
from django.utils.translation import gettext_lazy as _

from lieux.core.time import now


class NetworkKey(models.Model):
    """An Ed25519 key pair of the network. The newest key without `retired_at` signs; a retired key's
    public half keeps verifying until `valid_until`, so the tokens and allow-lists it signed before a
    rotation still work until they expire. The private half is stored encrypted (keys.py) and never leaves
    the server."""

    network = models.ForeignKey("venues.Network", on_delete=models.PROTECT, related_name="keys")
    key_id = models.CharField(max_length=16, unique=True)
    public_key = models.CharField(max_length=64, help_text=_("Raw Ed25519 public key, hexadecimal"))
    encrypted_private_key = models.TextField()
    created_at = models.DateTimeField(default=now)
    retired_at = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("network key")
        verbose_name_plural = _("network keys")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.key_id


class RevokedToken(models.Model):
    """A QR token refused before its expiry (a lost phone, a stolen screenshot)."""

    jti = models.CharField(max_length=32, unique=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(default=now)

    class Meta:
        verbose_name = _("revoked token")
        verbose_name_plural = _("revoked tokens")

    def __str__(self) -> str:
        return self.jti


class UsedToken(models.Model):
    """A QR token that opened a door: the unique `jti` is what refuses its replay, also between two
    doors scanning it at the same instant. Rows may be purged once `expires_at` is past."""

    jti = models.CharField(max_length=32, unique=True)
    venue = models.ForeignKey("venues.Venue", on_delete=models.CASCADE, related_name="+")
    used_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.jti
