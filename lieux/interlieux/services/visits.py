"""Recording a passage: one visit per (person, host venue, local day), whatever the number of scans.

The unique constraint is the guard. The insert runs in a savepoint; when another transaction got there
first (a double tap read by two doors, a re-upload racing a live scan) the insert fails on the constraint
and the existing row is moved forward by one UPDATE computed in the database, so no passage is lost and
no second visit appears — on PostgreSQL (the second insert waits for the first to commit) as on SQLite
(writers are serialised by IMMEDIATE transactions).
"""

from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest, Least

from lieux.interlieux.models import Visit


def upsert_visit(
    *,
    person_id: int,
    venue_id: int,
    day: date,
    at: datetime,
    home_venue_id: int,
    subscription_id: int | None,
    source: str,
) -> Visit:
    """Create the day's visit or add a passage to it. Must run inside a transaction."""
    try:
        with transaction.atomic():
            return Visit.objects.create(
                person_id=person_id,
                venue_id=venue_id,
                day=day,
                first_seen_at=at,
                last_seen_at=at,
                passages=1,
                home_venue_id=home_venue_id,
                subscription_id=subscription_id,
                source=source,
            )
    except IntegrityError:
        pass
    Visit.objects.filter(person_id=person_id, venue_id=venue_id, day=day).update(
        passages=F("passages") + 1,
        first_seen_at=Least(F("first_seen_at"), at),
        last_seen_at=Greatest(F("last_seen_at"), at),
    )
    return Visit.objects.get(person_id=person_id, venue_id=venue_id, day=day)
