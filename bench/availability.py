"""Availability: one venue-day, and a network-wide search by city and capacity.

Each sample runs `lieux.booking.selectors.availability` and a raw baseline answering the same question
with one SQL query through psycopg plus a few lines of Python; the two alternate so that both see the
same caches, and their answers are compared (free windows per resource) outside the timed part.
"""

import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg

from bench.generate import RESOURCES_PER_VENUE, Dataset
from bench.report import Report, Row, percentile, summary

# Free windows per resource: resource id → [(start, end)].
Answer = dict[int, list[tuple[datetime, datetime]]]

# One query: the matching resources with the occupancies of the units they cover during the venue's local
# day, their venue's opening windows for that weekday and whether a closure covers the day. The generator
# makes one level of halls, so a resource's units are its parts or itself.
RAW_SQL = """
SELECT r.id, v.timezone,
       (SELECT array_agg(ARRAY[h.opens_at, h.closes_at] ORDER BY h.opens_at)
          FROM venues_openinghours h WHERE h.venue_id = v.id AND h.weekday = %(weekday)s) AS windows,
       EXISTS (SELECT 1 FROM venues_closure c
                WHERE c.venue_id = v.id AND c.starts_on <= %(day)s AND c.ends_on >= %(day)s) AS closed,
       array_agg(o.starts_at) FILTER (WHERE o.id IS NOT NULL) AS starts,
       array_agg(o.ends_at) FILTER (WHERE o.id IS NOT NULL) AS ends
FROM venues_resource r
JOIN venues_venue v ON v.id = r.venue_id
LEFT JOIN venues_resource part ON part.parent_id = r.id
LEFT JOIN booking_occupancy o
       ON o.resource_id = COALESCE(part.id, r.id) AND o.is_active
      AND o.starts_at < ((%(day)s::date + 1)::timestamp AT TIME ZONE v.timezone)
      AND o.ends_at > (%(day)s::date::timestamp AT TIME ZONE v.timezone)
WHERE r.is_active AND {where}
GROUP BY r.id, v.id
"""
VENUE_SQL = RAW_SQL.format(where="r.venue_id = %(venue)s")
CITY_SQL = RAW_SQL.format(where="upper(v.city) = upper(%(city)s) AND r.capacity >= %(capacity)s")
CAPACITIES = (2, 6, 10, 20, 50)


def _subtract(window: tuple[datetime, datetime], busy: list[tuple[datetime, datetime]]) -> list:
    free, (cursor, limit) = [], window
    for start, end in busy:
        if end <= cursor:
            continue
        if start >= limit:
            break
        if start > cursor:
            free.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < limit:
        free.append((cursor, limit))
    return free


def raw_availability(conn: psycopg.Connection, sql: str, params: dict) -> Answer:
    day: date = params["day"]
    answer: Answer = {}
    zones: dict[str, ZoneInfo] = {}
    for rid, tz_name, windows, closed, starts, ends in conn.execute(sql, params):
        if closed or not windows:
            answer[rid] = []
            continue
        tz = zones.get(tz_name) or zones.setdefault(tz_name, ZoneInfo(tz_name))
        busy = sorted(zip(starts, ends, strict=True)) if starts else []
        free = []
        for opens, closes in windows:
            window = (
                datetime.combine(day, opens, tzinfo=tz).astimezone(UTC),
                datetime.combine(day, closes, tzinfo=tz).astimezone(UTC),
            )
            free += _subtract(window, busy)
        answer[rid] = free
    return answer


def orm_availability(**query) -> Answer:
    from lieux.booking.selectors import availability

    return {a.resource.pk: a.free for a in availability(**query)}


def _measure(
    label: str,
    samples: list[tuple[Callable[[], Answer], Callable[[], Answer]]],
    max_seconds: float,
) -> tuple[list[float], list[float], int]:
    """(platform ms, raw ms, mismatches) over the samples, alternating which side runs first."""
    for orm, raw in samples[:5]:  # warm-up: connections, prepared plans, imports
        orm(), raw()
    orm_ms, raw_ms, mismatches = [], [], 0
    deadline = time.monotonic() + max_seconds
    for n, (orm, raw) in enumerate(samples):
        if time.monotonic() > deadline:
            print(f"  [{label}] time bound reached after {n} samples", flush=True)
            break
        results = {}
        for side, call, sink in (("orm", orm, orm_ms), ("raw", raw, raw_ms))[:: 1 if n % 2 else -1]:
            started = time.perf_counter()
            results[side] = call()
            sink.append((time.perf_counter() - started) * 1000)
        if results["orm"] != results["raw"]:
            mismatches += 1
    return orm_ms, raw_ms, mismatches


def _add(report: Report, metric: str, target: float, measured: tuple, *details: str) -> int:
    """Add the figure's row; returns how many answers differed from the baseline."""
    orm_ms, raw_ms, wrong = measured
    p50_cost = percentile(orm_ms, 50) / percentile(raw_ms, 50)
    report.add(
        Row(metric, percentile(orm_ms, 95), "ms", target, baseline=percentile(raw_ms, 95)),
        f"selector {summary(orm_ms)}",
        f"raw SQL {summary(raw_ms)}",
        f"cost vs raw at p50: ×{p50_cost:.1f}",
        *details,
    )
    return wrong


def run(url: str, dataset: Dataset, report: Report, *, samples: int, max_seconds: float, seed: int) -> None:
    from lieux.venues.models import Venue

    rng = random.Random(seed)
    venues = list(Venue.objects.all())
    cities = sorted({v.city for v in venues})
    sizes = {c: sum(v.city == c for v in venues) for c in cities}

    def day() -> date:
        return dataset.first_day + timedelta(days=rng.randrange(dataset.days))

    with psycopg.connect(url, autocommit=True) as conn:

        def venue_day(venue) -> tuple[Callable[[], Answer], Callable[[], Answer]]:
            when = day()
            params = {"venue": venue.pk, "day": when, "weekday": when.weekday()}
            return (
                lambda: orm_availability(day=when, venue=venue),
                lambda: raw_availability(conn, VENUE_SQL, params),
            )

        venue_days = [venue_day(rng.choice(venues)) for _ in range(samples)]
        print(f"  availability of one venue-day: {samples} random venue-days", flush=True)
        wrong = _add(
            report, "availability, one venue-day (p95)", 25, _measure("venue-day", venue_days, max_seconds)
        )

        def search(city: str) -> tuple[Callable[[], Answer], Callable[[], Answer]]:
            when, capacity = day(), rng.choice(CAPACITIES)
            params = {"city": city, "capacity": capacity, "day": when, "weekday": when.weekday()}
            return (
                lambda: orm_availability(day=when, city=city, min_capacity=capacity),
                lambda: raw_availability(conn, CITY_SQL, params),
            )

        searches = [search(rng.choice(cities)) for _ in range(samples)]
        print(f"  network search by city and capacity: {samples} random searches", flush=True)
        wrong += _add(
            report,
            "network search, city + capacity (p95)",
            150,
            _measure("city search", searches, max_seconds),
            f"{len(cities)} cities holding 1 to {max(sizes.values())} venues; "
            f"minimum capacities {CAPACITIES}",
        )

        largest = max(cities, key=lambda c: sizes[c])
        print(f"  network search in the largest city ({largest}): {samples} random searches", flush=True)
        wrong += _add(
            report,
            "network search, largest city (p95)",
            150,
            _measure("largest city", [search(largest) for _ in range(samples)], max_seconds),
            f"{largest}: {sizes[largest]} venues, {sizes[largest] * RESOURCES_PER_VENUE} resources",
        )
    report.add(
        Row("availability answers differing from raw", wrong, "", 0, "=="),
        "free windows per resource, compared sample by sample for the three figures above",
    )
