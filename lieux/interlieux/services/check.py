"""The access check: a credential at a venue → a decision, a name the host may see, the visit recorded
and an audit row. Used by door devices (online), the reception desk and, through `decide`, by the
offline allow-list.

Bad credentials (unknown badge, forged, expired or replayed token, another network's token, a device of
another venue) are refused with a reason and write nothing but their AccessAudit row.

A check at a door in use runs four statements: two reads (the credential with its person, then the
person's facts at the venue) and two writes (the day's visit, the audit row), plus the used-token row of a
QR code. The device row, the venue's calendar and the network's public keys come from the server process's
memory (`devices.door_for_token`, `venues.selectors.cached_calendar`, `keys.CachedPublicKeys`); a device's
revocation is checked by the audit row's INSERT itself, so no copy ever lets a revoked door in.
"""

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q

from lieux.accounts.models import User
from lieux.core import audit
from lieux.core import prepared as sql
from lieux.core.errors import ValidationError
from lieux.core.time import now
from lieux.interlieux import rules, selectors, tokens
from lieux.interlieux.models import (
    AccessAudit,
    Badge,
    CredentialKind,
    DoorDevice,
    PassHolder,
    Visit,
    VisitSource,
)
from lieux.interlieux.services import visits
from lieux.interlieux.services.credentials import normalize_uid
from lieux.interlieux.services.devices import DeviceRevoked, forget_door
from lieux.interlieux.services.keys import CachedPublicKeys
from lieux.venues.models import Venue

logger = logging.getLogger("lieux.interlieux.access")

# The same card at two venues this close together is worth a look: a copied UID, or a card lent on.
ANOMALY_WINDOW = timedelta(minutes=10)
# A device's last_seen_at is refreshed at most this often, not on every scan.
_SEEN_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Resolved:
    """Who a credential names, or why it names no one."""

    kind: str
    person: User | None = None
    badge: Badge | None = None
    claims: tokens.Claims | None = None
    problem: str | None = None


@dataclass(frozen=True)
class AccessResult:
    decision: rules.Decision
    display_name: str
    visit: Visit | None
    audit: AccessAudit

    @property
    def allowed(self) -> bool:
        return self.decision.allowed


@functools.cache
def _badge_sql() -> str:
    # The live badge of the UID first (there is at most one), else the one revoked last; with its person.
    return (
        f"SELECT {sql.columns(Badge, 'b')}, {sql.columns(User, 'u')}"
        " FROM interlieux_badge b JOIN accounts_user u ON u.id = b.person_id"
        " WHERE b.uid = %(uid)s ORDER BY b.revoked_at DESC NULLS FIRST, b.id DESC LIMIT 1"
    )


@functools.cache
def _holder_sql() -> str:
    # The token's person, and whether the token was revoked or already used.
    return (
        f"SELECT {sql.columns(PassHolder, 'h')}, {sql.columns(User, 'u')},"
        " EXISTS (SELECT 1 FROM interlieux_revokedtoken r WHERE r.jti = %(jti)s),"
        " EXISTS (SELECT 1 FROM interlieux_usedtoken t WHERE t.jti = %(jti)s)"
        " FROM interlieux_passholder h JOIN accounts_user u ON u.id = h.person_id"
        " WHERE h.public_id = %(public_id)s"
    )


def _fetch_one(statement: str, params: dict) -> tuple | None:
    with sql.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()


def resolve_credential(credential: str, *, venue: Venue, at: datetime, check_replay: bool = True) -> Resolved:
    """Find the person behind a badge UID or a QR token, refusing what cannot be trusted. One query."""
    credential = (credential or "").strip()
    if tokens.looks_like_token(credential):
        try:
            claims = tokens.verify(
                credential,
                public_keys=CachedPublicKeys(venue.network_id, at),
                network_id=venue.network_id,
                at=at,
            )
        except tokens.TokenError as error:
            return Resolved(CredentialKind.QR, problem=error.reason)
        row = _fetch_one(_holder_sql(), {"jti": claims.jti, "public_id": claims.person_public_id})
        if row is None:
            return Resolved(CredentialKind.QR, claims=claims, problem=rules.UNKNOWN_CREDENTIAL)
        split = len(PassHolder._meta.concrete_fields)
        person = sql.instance(User, row[split:-2])
        revoked, used = bool(row[-2]), bool(row[-1])
        if not person.is_active:
            return Resolved(CredentialKind.QR, claims=claims, problem=rules.UNKNOWN_CREDENTIAL)
        if revoked:
            return Resolved(CredentialKind.QR, person=person, claims=claims, problem=rules.REVOKED_TOKEN)
        if check_replay and used:
            return Resolved(CredentialKind.QR, person=person, claims=claims, problem=rules.REPLAYED_TOKEN)
        return Resolved(CredentialKind.QR, person=person, claims=claims)
    try:
        uid = normalize_uid(credential)
    except ValidationError:
        return Resolved(CredentialKind.UNKNOWN, problem=rules.UNKNOWN_CREDENTIAL)
    row = _fetch_one(_badge_sql(), {"uid": uid})
    if row is None:
        return Resolved(CredentialKind.BADGE, problem=rules.UNKNOWN_CREDENTIAL)
    split = len(Badge._meta.concrete_fields)
    badge = sql.instance(Badge, row[:split])
    person = sql.instance(User, row[split:])
    badge.person = person
    if badge.revoked_at is None and person.is_active:
        return Resolved(CredentialKind.BADGE, person=person, badge=badge)
    return Resolved(CredentialKind.BADGE, badge=badge, problem=rules.REVOKED_BADGE)


# The check's row in one statement: the badge anomaly is looked for by the INSERT itself, and a device's row
# is written only while the device is live — a door revoked since its row was read (or kept in memory,
# `devices.door_for_token`) writes nothing and is refused.
_AUDIT_SQL = """
INSERT INTO interlieux_accessaudit
       (at, venue_id, device_id, credential_kind, allowed, reason, person_id_seen, badge_id, anomaly)
SELECT %(at)s, %(venue)s, %(device)s, %(kind)s, %(allowed)s, %(reason)s, %(person)s, %(badge)s, {anomaly}
{live}
RETURNING id, anomaly
"""
_ANOMALY_SQL = """EXISTS (SELECT 1 FROM interlieux_accessaudit o
                WHERE o.badge_id = %(badge)s AND o.at >= %(since)s AND o.at <= %(until)s
                  AND (o.venue_id IS NULL OR o.venue_id <> %(venue)s))"""
_LIVE_SQL = (
    "WHERE EXISTS (SELECT 1 FROM interlieux_doordevice d WHERE d.id = %(device)s AND d.revoked_at IS NULL)"
)


def _audit(
    *,
    venue: Venue | None,
    device: DoorDevice | None,
    kind: str,
    decision: rules.Decision,
    person: User | None,
    badge: Badge | None,
    at: datetime,
) -> AccessAudit:
    """Write the check's AccessAudit row, flagged as an anomaly when the same badge was seen at another
    venue within ANOMALY_WINDOW. Raises DeviceRevoked, writing nothing, when `device` is revoked."""
    look = badge is not None and venue is not None
    statement = _AUDIT_SQL.format(
        anomaly=_ANOMALY_SQL if look else "%(no)s", live=_LIVE_SQL if device is not None else ""
    )
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "at": adapt(at),
        "venue": getattr(venue, "pk", None),
        "device": getattr(device, "pk", None),
        "kind": kind,
        "allowed": decision.allowed,
        "reason": decision.reason,
        "person": getattr(person, "pk", None),
        "badge": getattr(badge, "pk", None),
        "no": False,
    }
    if look:
        params |= {"since": adapt(at - ANOMALY_WINDOW), "until": adapt(at + ANOMALY_WINDOW)}
    written = _fetch_one(statement, params)
    if written is None:
        assert device is not None
        forget_door(device.token_digest)
        raise DeviceRevoked(device.pk)
    anomaly = bool(written[1])
    row = AccessAudit(
        pk=written[0],
        at=at,
        venue=venue,
        device=device,
        credential_kind=kind,
        allowed=decision.allowed,
        reason=decision.reason,
        person_id_seen=params["person"],
        badge=badge,
        anomaly=anomaly,
    )
    row._state.adding = False
    row._state.db = connection.alias
    if anomaly and badge is not None:
        logger.warning(
            "Badge %s seen at two venues within %s minutes (now at venue %s)",
            badge.pk,
            int(ANOMALY_WINDOW.total_seconds() // 60),
            getattr(venue, "pk", None),
        )
        audit.record(
            "interlieux.badge.anomaly", badge, venue_id=getattr(venue, "pk", None), access_audit_id=row.pk
        )
    return row


# The door's check row with its badge anomaly, also for passages uploaded after the door was offline.
record_check = _audit

# A QR code's first use, or nothing when its jti is already used: the unique jti decides between two
# doors reading the same code at once (the second insert waits for the first transaction, then does nothing).
_USE_TOKEN_SQL = """
INSERT INTO interlieux_usedtoken (jti, venue_id, used_at, expires_at)
VALUES (%(jti)s, %(venue)s, %(at)s, %(expires)s)
ON CONFLICT (jti) DO NOTHING
RETURNING id
"""


def _source(kind: str) -> str:
    sources: dict[str, str] = {CredentialKind.BADGE: VisitSource.BADGE, CredentialKind.QR: VisitSource.QR}
    return sources.get(kind, VisitSource.KIOSK)


def _admit(
    *, venue: Venue, resolved: Resolved, decision: rules.Decision, at: datetime, source: str
) -> tuple[rules.Decision, Visit | None]:
    """Write what an allowed entry writes; a token already used by a concurrent scan turns it into a
    refusal."""
    if resolved.claims is not None:
        adapt = connection.ops.adapt_datetimefield_value
        with sql.cursor() as cursor:
            cursor.execute(
                _USE_TOKEN_SQL,
                {
                    "jti": resolved.claims.jti,
                    "venue": venue.pk,
                    "at": adapt(at),
                    "expires": adapt(resolved.claims.expires_at),
                },
            )
            first_use = cursor.fetchone() is not None
        if not first_use:
            return rules.Decision(
                allowed=False, reason=rules.REPLAYED_TOKEN, parts=(rules.describe(rules.REPLAYED_TOKEN),)
            ), None
    grant = decision.grant
    assert resolved.person is not None
    visit = visits.upsert_visit(
        person_id=resolved.person.pk,
        venue_id=venue.pk,
        day=selectors.local_day(venue, at),
        at=at,
        home_venue_id=grant.home_venue_id if grant is not None else venue.pk,
        subscription_id=grant.subscription_id if grant is not None else None,
        source=source,
    )
    return decision, visit


def _decide_and_record(
    *,
    venue: Venue,
    device: DoorDevice | None,
    resolved: Resolved,
    at: datetime,
    source: str | None = None,
) -> AccessResult:
    if resolved.problem is not None or resolved.person is None:
        # `decide` refuses a bad credential before it looks at the venue: the venue's hours and closures
        # (two queries) are not read for a credential that names no one.
        decision = rules.decide(
            rules.PersonFacts(
                person_id=None, credential_problem=resolved.problem or rules.UNKNOWN_CREDENTIAL
            ),
            rules.VenueFacts(venue_id=venue.pk, name=venue.name, tz=venue.tz, windows={}),
            at,
        )
    else:
        decision = rules.decide(
            selectors.person_facts(resolved.person, venue, at),
            selectors.door_venue_facts(venue, selectors.local_day(venue, at)),
            at,
        )
    with transaction.atomic():
        visit = None
        if decision.allowed:
            decision, visit = _admit(
                venue=venue,
                resolved=resolved,
                decision=decision,
                at=at,
                source=source or _source(resolved.kind),
            )
        row = _audit(
            venue=venue,
            device=device,
            kind=resolved.kind,
            decision=decision,
            person=resolved.person,
            badge=resolved.badge,
            at=at,
        )
        if device is not None and (device.last_seen_at is None or device.last_seen_at < at - _SEEN_EVERY):
            # The device row was read with the request (or kept by this process) and last_seen_at only
            # moves forward: when it is recent, the database's is too, so a door scanning often writes
            # nothing here. When the database's is recent already (another process wrote it), the copy
            # takes `at` too, so this process tries again a minute later, not at every scan.
            stale = Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=at - _SEEN_EVERY)
            DoorDevice.objects.filter(stale, pk=device.pk).update(last_seen_at=at)
            device.last_seen_at = at
    name = ""
    if resolved.person is not None and decision.reason not in rules.CREDENTIAL_REASONS:
        grant = decision.grant
        name = selectors.display_name(
            resolved.person,
            host=venue,
            home_venue_id=grant.home_venue_id if grant is not None else None,
            full=decision.reason == rules.OK_STAFF,
        )
    return AccessResult(decision=decision, display_name=name, visit=visit, audit=row)


def check_access(
    *, device: DoorDevice, credential: str, at: datetime | None = None, venue_slug: str | None = None
) -> AccessResult:
    """A door asks: may the holder of `credential` come in now? The device names the venue; a request
    that names another venue is refused (`wrong_venue_device`)."""
    at = at or now()
    venue = device.venue
    if venue_slug is not None and venue_slug != venue.slug:
        resolved = Resolved(CredentialKind.UNKNOWN, problem=rules.WRONG_VENUE_DEVICE)
    else:
        resolved = resolve_credential(credential, venue=venue, at=at)
    return _decide_and_record(venue=venue, device=device, resolved=resolved, at=at)


def check_in_person(*, venue: Venue, person: User, actor: User, at: datetime | None = None) -> AccessResult:
    """The reception desk lets a person in by name: the same rules as at the door."""
    at = at or now()
    return _decide_and_record(
        venue=venue,
        device=None,
        resolved=Resolved(CredentialKind.KIOSK, person=person),
        at=at,
        source=VisitSource.KIOSK,
    )


def check_in_credential(*, venue: Venue, credential: str, at: datetime | None = None) -> AccessResult:
    """The reception desk reads a badge or a QR code (a keyboard-wedge scanner types it into the page)."""
    at = at or now()
    resolved = resolve_credential(credential, venue=venue, at=at)
    return _decide_and_record(venue=venue, device=None, resolved=resolved, at=at)
