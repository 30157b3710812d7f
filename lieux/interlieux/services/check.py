"""The access check: a credential at a venue → a decision, a name the host may see, the visit recorded
and an audit row. Used by door devices (online), the reception desk and, through `decide`, by the
offline allow-list.

Bad credentials (unknown badge, forged, expired or replayed token, another network's token, a device of
another venue) are refused with a reason and write nothing but their AccessAudit row.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from lieux.accounts.models import User
from lieux.core import audit
from lieux.core.errors import ValidationError
from lieux.core.time import now
from lieux.interlieux import rules, selectors, tokens
from lieux.interlieux.models import (
    AccessAudit,
    Badge,
    CredentialKind,
    DoorDevice,
    PassHolder,
    RevokedToken,
    UsedToken,
    Visit,
    VisitSource,
)
from lieux.interlieux.services import visits
from lieux.interlieux.services.credentials import normalize_uid
from lieux.interlieux.services.keys import public_keys
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


def resolve_credential(credential: str, *, venue: Venue, at: datetime, check_replay: bool = True) -> Resolved:
    """Find the person behind a badge UID or a QR token, refusing what cannot be trusted."""
    credential = (credential or "").strip()
    if tokens.looks_like_token(credential):
        try:
            claims = tokens.verify(
                credential, public_keys=public_keys(venue.network_id, at), network_id=venue.network_id, at=at
            )
        except tokens.TokenError as error:
            return Resolved(CredentialKind.QR, problem=error.reason)
        holder = PassHolder.objects.select_related("person").filter(public_id=claims.person_public_id).first()
        if holder is None or not holder.person.is_active:
            return Resolved(CredentialKind.QR, claims=claims, problem=rules.UNKNOWN_CREDENTIAL)
        if RevokedToken.objects.filter(jti=claims.jti).exists():
            return Resolved(
                CredentialKind.QR, person=holder.person, claims=claims, problem=rules.REVOKED_TOKEN
            )
        if check_replay and UsedToken.objects.filter(jti=claims.jti).exists():
            return Resolved(
                CredentialKind.QR, person=holder.person, claims=claims, problem=rules.REPLAYED_TOKEN
            )
        return Resolved(CredentialKind.QR, person=holder.person, claims=claims)
    try:
        uid = normalize_uid(credential)
    except ValidationError:
        return Resolved(CredentialKind.UNKNOWN, problem=rules.UNKNOWN_CREDENTIAL)
    badge = Badge.objects.select_related("person").filter(uid=uid, revoked_at__isnull=True).first()
    if badge is not None and badge.person.is_active:
        return Resolved(CredentialKind.BADGE, person=badge.person, badge=badge)
    revoked = Badge.objects.filter(uid=uid).order_by("-revoked_at").first()
    if revoked is not None:
        return Resolved(CredentialKind.BADGE, badge=revoked, problem=rules.REVOKED_BADGE)
    return Resolved(CredentialKind.BADGE, problem=rules.UNKNOWN_CREDENTIAL)


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
    anomaly = False
    if badge is not None and venue is not None:
        anomaly = (
            AccessAudit.objects.filter(badge=badge, at__gte=at - ANOMALY_WINDOW, at__lte=at + ANOMALY_WINDOW)
            .exclude(venue=venue)
            .exists()
        )
    row = AccessAudit.objects.create(
        at=at,
        venue=venue,
        device=device,
        credential_kind=kind,
        allowed=decision.allowed,
        reason=decision.reason,
        person_id_seen=getattr(person, "pk", None),
        badge=badge,
        anomaly=anomaly,
    )
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


def _source(kind: str) -> str:
    sources: dict[str, str] = {CredentialKind.BADGE: VisitSource.BADGE, CredentialKind.QR: VisitSource.QR}
    return sources.get(kind, VisitSource.KIOSK)


def _admit(
    *, venue: Venue, resolved: Resolved, decision: rules.Decision, at: datetime, source: str
) -> tuple[rules.Decision, Visit | None]:
    """Write what an allowed entry writes; a token already used by a concurrent scan turns it into a
    refusal."""
    if resolved.claims is not None:
        try:
            with transaction.atomic():
                UsedToken.objects.create(
                    jti=resolved.claims.jti, venue=venue, used_at=at, expires_at=resolved.claims.expires_at
                )
        except IntegrityError:
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
            selectors.venue_facts(venue, selectors.local_day(venue, at)),
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
            # The device row was read with the request and last_seen_at only moves forward: when it is
            # recent, the database's is too, so a door scanning often writes nothing here.
            stale = Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=at - _SEEN_EVERY)
            if DoorDevice.objects.filter(stale, pk=device.pk).update(last_seen_at=at):
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
