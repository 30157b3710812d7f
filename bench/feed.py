"""A resource's iCalendar feed over the whole generated year, beside a raw select of the same rows.

The feed module is imported lazily: when it is missing, the figure is reported as not measured.
"""

import random
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg

from bench.generate import TZ_NAME, Dataset
from bench.report import Report, Row, percentile, summary

# The rows a staff member's resource feed carries: the resource's bookings and those of the hall it is
# part of or of the parts it is made of (one level of halls in the generated data).
RAW_SQL = """
SELECT b.id, b.title, b.notes, b.starts_at, b.ends_at, b.status, b.created_at, b.updated_at,
       b.booked_by_id, u.first_name, u.last_name, u.email, r.name, v.name, v.street, v.postcode,
       v.city, v.timezone, n.slug
FROM booking_booking b
JOIN accounts_user u ON u.id = b.booked_by_id
JOIN venues_resource r ON r.id = b.resource_id
JOIN venues_venue v ON v.id = b.venue_id
JOIN venues_network n ON n.id = v.network_id
WHERE b.resource_id IN (
        SELECT id FROM venues_resource
        WHERE id = %(resource)s OR parent_id = %(resource)s
           OR id = (SELECT parent_id FROM venues_resource WHERE id = %(resource)s))
  AND b.starts_at < %(end)s AND b.ends_at > %(start)s
ORDER BY b.starts_at, b.id
"""
METRIC = "iCalendar feed, a room's year (p95)"


def run(url: str, dataset: Dataset, report: Report, *, samples: int, max_seconds: float, seed: int) -> None:
    try:
        from lieux.booking.ical import render_feed
        from lieux.booking.services.feeds import feed_for
    except ImportError as error:
        report.add(Row(METRIC, None, "ms", 200), f"not measured: the feed module is missing ({error})")
        return
    from lieux.accounts.models import User
    from lieux.venues.models import Resource, Role, VenueRole

    tz = ZoneInfo(TZ_NAME)
    start = datetime.combine(dataset.first_day, datetime.min.time(), tzinfo=tz)
    end = start + timedelta(days=dataset.days)
    managers = dict(VenueRole.objects.filter(role=Role.MANAGER).values_list("venue_id", "user"))
    rooms = list(Resource.objects.filter(kind="room").select_related("venue").order_by("pk"))
    chosen = random.Random(seed).sample(rooms, min(samples, len(rooms)))
    owners = User.objects.in_bulk(set(managers.values()))
    feeds = [
        feed_for(owner=owners[managers[r.venue_id]], scope="resource", resource=r)
        for r in chosen
        if r.venue_id in managers
    ]
    print(f"  iCalendar feeds: {len(feeds)} rooms, {dataset.first_day} to {dataset.last_day}", flush=True)
    feed_ms, raw_ms, events, sizes, mismatched = [], [], [], [], 0
    with psycopg.connect(url, autocommit=True) as conn:
        render_feed(feeds[0], start=start, end=end)  # warm-up: imports, VTIMEZONE cache
        deadline = time.monotonic() + max_seconds
        for n, feed in enumerate(feeds):
            if time.monotonic() > deadline:
                print(f"  [feed] time bound reached after {n} feeds", flush=True)
                break
            started = time.perf_counter()
            body = render_feed(feed, start=start, end=end)
            feed_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            rows = conn.execute(
                RAW_SQL, {"resource": feed.resource_id, "start": start, "end": end}
            ).fetchall()
            raw_ms.append((time.perf_counter() - started) * 1000)
            events.append(body.count(b"BEGIN:VEVENT"))
            sizes.append(len(body))
            mismatched += events[-1] != len(rows)
    report.add(
        Row(METRIC, percentile(feed_ms, 95), "ms", 200, baseline=percentile(raw_ms, 95)),
        f"render_feed {summary(feed_ms)}",
        f"raw SQL select of the same rows {summary(raw_ms)}",
        f"events per feed: mean {sum(events) / len(events):.0f}, max {max(events)}; "
        f"largest feed {max(sizes) / 1024:.0f} KiB",
    )
    report.add(
        Row("iCalendar feed: feeds whose event count differs from raw", mismatched, "", 0, "=="),
        "one VEVENT per booking row the raw select returns",
    )
