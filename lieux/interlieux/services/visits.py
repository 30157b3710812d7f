"""Recording a passage: one visit per (person, host venue, local day), whatever the number of scans.

The unique constraint is the guard, and one statement uses it: `INSERT … ON CONFLICT (person, venue, day)
DO UPDATE` creates the day's visit or, when it exists (a re-scan, a double tap read by two doors, a
re-upload racing a live scan), adds the passage to it in the database, so no passage is lost and no second
visit appears — on PostgreSQL (a second insert of the same key waits for the first to commit, then
updates the committed row) as on SQLite (writers are serialised by IMMEDIATE transactions).
"""

from datetime import date, datetime

from django.db import connection

from lieux.core import prepared as sql
from lieux.core.time import now
from lieux.interlieux.models import Visit

_UPSERT = """
INSERT INTO interlieux_visit
       (person_id, venue_id, day, first_seen_at, last_seen_at, passages, home_venue_id, subscription_id,
        source, created_at)
VALUES (%(person)s, %(venue)s, %(day)s, %(at)s, %(at)s, 1, %(home)s, %(subscription)s, %(source)s,
        %(created)s)
ON CONFLICT (person_id, venue_id, day) DO UPDATE
   SET passages = interlieux_visit.passages + 1,
       first_seen_at = {least}(interlieux_visit.first_seen_at, excluded.first_seen_at),
       last_seen_at = {greatest}(interlieux_visit.last_seen_at, excluded.last_seen_at)
RETURNING {columns}
"""


def _statement() -> str:
    # SQLite's two-argument MIN()/MAX() are PostgreSQL's LEAST()/GREATEST().
    least, greatest = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    return _UPSERT.format(least=least, greatest=greatest, columns=sql.columns(Visit, "interlieux_visit"))


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
    """Create the day's visit or add a passage to it (first and last passage widened to `at`). Must run
    inside a transaction; a re-scan keeps the visit's home venue, subscription and source."""
    ops = connection.ops
    params = {
        "person": person_id,
        "venue": venue_id,
        "day": ops.adapt_datefield_value(day),
        "at": ops.adapt_datetimefield_value(at),
        "home": home_venue_id,
        "subscription": subscription_id,
        "source": source,
        "created": ops.adapt_datetimefield_value(now()),
    }
    with sql.cursor() as cursor:
        cursor.execute(_statement(), params)
        row = cursor.fetchone()
    assert row is not None  # an upsert always returns its row
    return sql.instance(Visit, row)
