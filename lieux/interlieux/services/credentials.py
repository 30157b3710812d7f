"""Badges and QR tokens: register and revoke a badge, issue and revoke a member's QR token, and the
public identifier that stands for a person on the network."""

import hashlib
import re
import secrets
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from lieux.accounts.models import User
from lieux.core import audit
from lieux.core.errors import Conflict, ValidationError
from lieux.core.time import now
from lieux.interlieux import tokens
from lieux.interlieux.models import Badge, PassHolder, RevokedToken
from lieux.interlieux.services.keys import signing_key
from lieux.venues.models import Network, Venue

# Readers print a UID as hex with or without separators ("04:A2:1B…", "04 a2 1b…"); a few keyboard-wedge
# readers type it in decimal, which is kept as digits. Either way one card gives one string.
_SEPARATORS = re.compile(r"[\s:.\-]")
_UID = re.compile(r"^[0-9A-F]{4,32}$")


def normalize_uid(raw: str) -> str:
    uid = _SEPARATORS.sub("", raw or "").upper()
    if not _UID.match(uid):
        raise ValidationError(
            _("A badge UID is 4 to 32 hexadecimal characters."), code="invalid_badge_uid", field="uid"
        )
    return uid


def badge_digest(uid: str) -> str:
    """What the offline allow-list carries instead of the UID itself. Not a secret either (UIDs are few
    and guessable): it only keeps the list from being a ready-made list of card numbers to clone."""
    return hashlib.sha256(f"lieux-badge:{uid}".encode()).hexdigest()


def register_badge(*, venue: Venue, person: User, uid: str, label: str = "", actor=None) -> Badge:
    uid = normalize_uid(uid)
    try:
        with transaction.atomic():
            badge = Badge.objects.create(uid=uid, person=person, issued_by=venue, label=label[:80])
            audit.record(
                "interlieux.badge.registered", badge, actor=actor, venue_id=venue.pk, person_id=person.pk
            )
    except IntegrityError:
        raise Conflict(_("This badge is already registered to someone."), code="badge_in_use") from None
    return badge


def revoke_badge(*, badge: Badge, actor=None, at: datetime | None = None) -> Badge:
    with transaction.atomic():
        updated = Badge.objects.filter(pk=badge.pk, revoked_at__isnull=True).update(revoked_at=at or now())
        badge.refresh_from_db()
        if updated:
            audit.record("interlieux.badge.revoked", badge, actor=actor, venue_id=badge.issued_by_id)
    return badge


def public_id_of(person: User) -> str:
    """The person's identifier on the network, created on first use."""
    holder = PassHolder.objects.filter(person=person).first()
    if holder is not None:
        return holder.public_id
    try:
        with transaction.atomic():
            holder = PassHolder.objects.create(person=person, public_id=secrets.token_urlsafe(12))
    except IntegrityError:
        holder = PassHolder.objects.get(person=person)
    return holder.public_id


def issue_qr_token(
    *, person: User, network: Network, at: datetime | None = None
) -> tuple[str, tokens.Claims]:
    """A fresh short-lived token for the member's QR code, signed by the network's current key."""
    key, private = signing_key(network)
    return tokens.issue(
        private_key=private,
        key_id=key.key_id,
        network_id=network.pk,
        person_public_id=public_id_of(person),
        issued_at=at or now(),
    )


def revoke_token(*, claims: tokens.Claims, actor=None) -> RevokedToken:
    with transaction.atomic():
        revoked, _created = RevokedToken.objects.get_or_create(
            jti=claims.jti, defaults={"expires_at": claims.expires_at}
        )
        audit.record("interlieux.token.revoked", revoked, actor=actor)
    return revoked
