"""The signed allow-list a door keeps for when the server cannot be reached.

Minimal data: for each person who may enter the venue, their public id, the digests of their live badges,
and the kind of right with its days and hours; no name, no e-mail, no venue of origin. The venue's
opening hours and the QR tokens revoked before expiry travel with it. Signed with the network's key over
the canonical JSON of `snapshot` (tokens.canonical_json), so a door verifies it with the public key.
"""

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q

from lieux.accounts.models import User
from lieux.core.time import now
from lieux.interlieux import rules, selectors, tokens
from lieux.interlieux.models import Badge, PassHolder, RevokedToken
from lieux.interlieux.services.credentials import badge_digest, public_id_of
from lieux.interlieux.services.keys import signing_key
from lieux.memberships.models import Subscription
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import Role, Venue, VenueRole
from lieux.venues.rules import is_closed_on

# After this a door stops trusting its copy; it asks for a new one every few minutes while online.
ALLOWLIST_VALIDITY = timedelta(hours=24)
FORMAT = "lieux-allowlist/1"


def _candidates(venue: Venue, day) -> set[int]:
    """People who might hold a right here: subscribers of the venue, holders of a pass including it, and
    its team."""
    subscribers = Subscription.objects.filter(
        status__in=selectors.ENTRY_STATUSES, started_on__lte=day
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
    ids = set(
        subscribers.filter(Q(venue=venue) | Q(plan__network_access__host_venues=venue)).values_list(
            "member_id", flat=True
        )
    )
    ids |= set(
        VenueRole.objects.filter(venue=venue, role__in=[Role.MANAGER, Role.STAFF]).values_list(
            "user_id", flat=True
        )
    )
    return ids


def _right(decision: rules.Decision) -> dict[str, Any]:
    grant = decision.grant
    if decision.reason == rules.OK_STAFF:
        return {"kind": "staff"}
    if grant is None or grant.kind == rules.MEMBER:
        return {"kind": "member"}
    left = None if grant.days_per_month is None else max(0, grant.days_per_month - grant.days_used)
    return {
        "kind": "pass",
        "weekdays": sorted(grant.weekdays),
        "hours": [grant.window[0].strftime("%H:%M"), grant.window[1].strftime("%H:%M")]
        if grant.window
        else None,
        "days_left_this_month": left,
        "visited_today": grant.visited_today,
    }


def build_allowlist(*, venue: Venue, at: datetime | None = None) -> dict[str, Any]:
    at = at or now()
    day = selectors.local_day(venue, at)
    facts = selectors.venue_facts(venue, day)
    people = User.objects.filter(pk__in=_candidates(venue, day), is_active=True).order_by("pk")
    badges: dict[int, list[str]] = {}
    for person_id, uid in Badge.objects.filter(person__in=people, revoked_at__isnull=True).values_list(
        "person_id", "uid"
    ):
        badges.setdefault(person_id, []).append(badge_digest(uid))
    holders = dict(PassHolder.objects.filter(person__in=people).values_list("person_id", "public_id"))
    entries = []
    for person in people:
        person_facts = selectors.person_facts(person, venue, at)
        # Decided at an instant the venue is open, so the list holds rights, not today's hour.
        decision = _decide_any_hour(person_facts, facts, at)
        if not decision.allowed:
            continue
        if decision.grant is not None:
            # The right as sold (days and hours), not as relaxed for the decision above.
            original = {(g.kind, g.subscription_id): g for g in person_facts.grants}
            decision = replace(
                decision, grant=original[(decision.grant.kind, decision.grant.subscription_id)]
            )
        entries.append(
            {
                "person": holders.get(person.pk) or public_id_of(person),
                "badges": sorted(badges.get(person.pk, [])),
                "right": _right(decision),
            }
        )
    key, private = signing_key(venue.network)
    snapshot = {
        "format": FORMAT,
        "network": venue.network_id,
        "venue": venue.slug,
        "generated_at": at.isoformat(),
        "valid_until": (at + ALLOWLIST_VALIDITY).isoformat(),
        "timezone": venue.timezone,
        "opening_hours": {
            str(weekday): [[o.strftime("%H:%M"), c.strftime("%H:%M")] for o, c in windows]
            for weekday, windows in sorted(venue_selectors.opening_windows(venue).items())
        },
        "closed_today": is_closed_on(day, facts.closures),
        "revoked_tokens": sorted(
            RevokedToken.objects.filter(expires_at__gt=at).values_list("jti", flat=True)
        ),
        "entries": entries,
    }
    return {
        "snapshot": snapshot,
        "key_id": key.key_id,
        "signature": tokens.sign_document(snapshot, private_key=private),
    }


def _decide_any_hour(person: rules.PersonFacts, venue: rules.VenueFacts, at: datetime) -> rules.Decision:
    """The decision as if the venue were open now: opening hours are checked by the door itself."""
    open_all_day = rules.VenueFacts(
        venue_id=venue.venue_id, name=venue.name, tz=venue.tz, windows={}, closures=()
    )
    plain = rules.PersonFacts(
        person_id=person.person_id,
        grants=tuple(g if g.kind == rules.MEMBER else _without_hours(g) for g in person.grants),
        is_staff_here=person.is_staff_here,
    )
    return rules.decide(plain, open_all_day, at)


def _without_hours(grant: rules.Grant) -> rules.Grant:
    return replace(grant, weekdays=frozenset(range(7)), window=None)
