"""Passages a door recorded while offline, uploaded when it is back.

Each passage carries an id the device chose; (device, id) is unique, so uploading a batch again — or the
same batch from fifty retries at once — records each passage once, and the visit it feeds stays one per
(person, venue, day). The door already let the person in: the server records the visit whenever it knows
who the credential names, and keeps its own decision as the passage's outcome for the team to review.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from lieux.core.time import now
from lieux.interlieux import rules, selectors
from lieux.interlieux.models import CredentialKind, DoorDevice, OfflinePassage, VisitSource
from lieux.interlieux.services import check, visits
from lieux.interlieux.services.check import resolve_credential

# Older passages are refused: a door offline for more than a week has bigger problems than counting.
MAX_AGE = timedelta(days=7)
# A device clock ahead of the server's by more than this is wrong, not early.
MAX_AHEAD = timedelta(minutes=5)

RECORDED = "recorded"
DUPLICATE = "duplicate"
TOO_OLD = "too_old"
IN_FUTURE = "in_future"


@dataclass(frozen=True)
class OfflinePassageIn:
    passage_id: str
    credential: str
    seen_at: datetime


@dataclass(frozen=True)
class OfflineOutcome:
    passage_id: str
    outcome: str
    reason: str


def upload_offline_passages(
    *, device: DoorDevice, passages: list[OfflinePassageIn], at: datetime | None = None
) -> list[OfflineOutcome]:
    at = at or now()
    return [_one(device, passage, at) for passage in passages]


def _one(device: DoorDevice, passage: OfflinePassageIn, at: datetime) -> OfflineOutcome:
    venue = device.venue
    if passage.seen_at < at - MAX_AGE:
        return OfflineOutcome(passage.passage_id, TOO_OLD, TOO_OLD)
    if passage.seen_at > at + MAX_AHEAD:
        return OfflineOutcome(passage.passage_id, IN_FUTURE, IN_FUTURE)
    if OfflinePassage.objects.filter(device=device, passage_id=passage.passage_id).exists():
        return OfflineOutcome(passage.passage_id, DUPLICATE, DUPLICATE)
    # Tokens are judged at the instant of the passage; a token used once at the door offline and then
    # at another door is for the visit count to absorb, not a replay to refuse after the fact.
    resolved = resolve_credential(passage.credential, venue=venue, at=passage.seen_at, check_replay=False)
    if resolved.person is not None and resolved.problem in (None, rules.REVOKED_TOKEN):
        decision = rules.decide(
            selectors.person_facts(resolved.person, venue, passage.seen_at),
            selectors.venue_facts(venue, selectors.local_day(venue, passage.seen_at)),
            passage.seen_at,
        )
    else:
        decision = rules.Decision(allowed=False, reason=resolved.problem or rules.UNKNOWN_CREDENTIAL)
    try:
        with transaction.atomic():
            row = OfflinePassage.objects.create(
                device=device, passage_id=passage.passage_id, seen_at=passage.seen_at, outcome=decision.reason
            )
            visit = None
            if resolved.person is not None and resolved.problem is None:
                grant = decision.grant if decision.allowed else None
                visit = visits.upsert_visit(
                    person_id=resolved.person.pk,
                    venue_id=venue.pk,
                    day=selectors.local_day(venue, passage.seen_at),
                    at=passage.seen_at,
                    home_venue_id=grant.home_venue_id if grant is not None else venue.pk,
                    subscription_id=grant.subscription_id if grant is not None else None,
                    source=VisitSource.OFFLINE,
                )
                row.visit = visit
                row.save(update_fields=["visit"])
            # The door's own check, anomaly included: a badge copied and used offline at one venue while
            # it is scanned at another is flagged when the passage arrives, whichever came first.
            check.record_check(
                venue=venue,
                device=device,
                kind=CredentialKind.OFFLINE,
                decision=decision,
                person=resolved.person,
                badge=resolved.badge,
                at=passage.seen_at,
            )
    except IntegrityError:
        # The same passage arrived through a concurrent upload, which recorded it.
        return OfflineOutcome(passage.passage_id, DUPLICATE, DUPLICATE)
    return OfflineOutcome(
        passage.passage_id, RECORDED if visit is not None else decision.reason, decision.reason
    )
