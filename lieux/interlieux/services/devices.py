"""Door devices: register one (its token is returned once, only a digest is kept), revoke it, and find
the device a request's token belongs to."""

import hashlib
import random
import secrets
import time
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
    forget_door(device.token_digest)
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


# --- The door check's copy of its device ----------------------------------------------------------------

# A door sends a check every few seconds at the morning rush; its row (and its venue's) changes almost never.
# Each server process keeps the rows it read for this long, reading the live doors of a whole network at
# once when it first meets one of them (a server's first minute would otherwise read them one by one).
# Revocation does not wait for the copy: the check's audit row is written only if the device is still live,
# in the same statement (`check.record_check`), so a revoked door is refused at its first check after the
# revocation commits, by every process.
DOOR_CACHE_SECONDS = 60.0
_DOOR_CACHE_SIZE = 10_000
_doors: dict[str, tuple[float, DoorDevice]] = {}
# network id → when this process's copy of its doors expires
_networks: dict[int, float] = {}


class DeviceRevoked(Exception):
    """The device was revoked after its row was read: the request is refused as unauthenticated."""


def _keep_network(network_id: int, expires: float) -> None:
    live = (
        DoorDevice.objects.select_related("venue", "venue__network")
        .filter(venue__network_id=network_id, revoked_at__isnull=True)
        .order_by("pk")[: _DOOR_CACHE_SIZE // 2]
    )
    for device in live:
        _doors[device.token_digest] = (expires, device)
    _networks[network_id] = expires


def door_for_token(raw: str) -> DoorDevice | None:
    """`device_for_token` for the access check, from this process's copy when it is recent. Only use it
    where the device's revocation is checked again before anything is written (the check's audit row)."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    digest = token_digest(raw)
    at = time.monotonic()
    hit = _doors.get(digest)
    if hit is not None and hit[0] > at:
        return hit[1]
    device = device_for_token(raw)
    if device is None:
        return None
    if len(_doors) >= _DOOR_CACHE_SIZE:
        _doors.clear()  # more doors than any network has: only stale copies were dropped
        _networks.clear()
    # Copies of different networks read together expire spread over the last fifth of the bound.
    expires = at + DOOR_CACHE_SECONDS * random.uniform(0.8, 1.0)
    network_id = device.venue.network_id
    if _networks.get(network_id, 0.0) <= at:
        _keep_network(network_id, expires)
    _doors[digest] = (expires, device)
    return device


def forget_door(digest: str | None = None) -> None:
    """Drop this process's copy of one device (by token digest), or of all."""
    if digest is None:
        _doors.clear()
        _networks.clear()
    else:
        _doors.pop(digest, None)
