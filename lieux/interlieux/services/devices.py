"""Door devices: register one (its token is returned once, only a digest is kept), revoke it, and find
the device a request's token belongs to."""

import hashlib
import secrets
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from lieux.core import audit
from lieux.core.errors import ValidationError
from lieux.core.time import now
from lieux.interlieux.models import DoorDevice
from lieux.venues.models import Venue

TOKEN_PREFIX = "ld_"


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def register_door_device(*, venue: Venue, name: str, actor=None) -> tuple[DoorDevice, str]:
    """Create a device of `venue`; returns it with its token, which is never shown again."""
    name = (name or "").strip()
    if not name or len(name) > 80 or "\x00" in name:
        raise ValidationError(
            _("Give the door a name of 1 to 80 characters."), code="invalid_name", field="name"
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        device = DoorDevice.objects.create(
            venue=venue,
            name=name,
            token_digest=token_digest(raw),
            token_hint=raw[:8],
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit.record("interlieux.door_device.registered", device, actor=actor, venue_id=venue.pk, name=name)
    return device, raw


def revoke_door_device(*, device: DoorDevice, actor=None, at: datetime | None = None) -> DoorDevice:
    with transaction.atomic():
        if DoorDevice.objects.filter(pk=device.pk, revoked_at__isnull=True).update(revoked_at=at or now()):
            audit.record("interlieux.door_device.revoked", device, actor=actor, venue_id=device.venue_id)
    device.refresh_from_db()
    return device


def device_for_token(raw: str) -> DoorDevice | None:
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    return (
        DoorDevice.objects.select_related("venue", "venue__network")
        .filter(token_digest=token_digest(raw), revoked_at__isnull=True)
        .first()
    )
