"""Reads: which bookings a person may see, and when resources are free.

Privacy: a person sees the details of their own bookings; the staff of a venue see every booking of
that venue; everyone else sees only free/busy (occupancy intervals, no title, no person).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Q, QuerySet

from lieux.booking.models import Booking, Occupancy
from lieux.booking.rules import blocking_units, free_windows
from lieux.core.time import UTC, day_bounds
from lieux.venues import rules as venue_rules
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import Closure, OpeningHours, Resource, Venue


def visible_bookings(user) -> QuerySet[Booking]:
    """Bookings whose details `user` may read: their own, and all those of the venues they staff."""
    if not getattr(user, "is_authenticated", False):
        return Booking.objects.none()
    staffed = venue_selectors.staffed_venue_ids(user)
    return Booking.objects.filter(Q(booked_by=user) | Q(venue_id__in=staffed)).select_related(
        "resource", "venue", "booked_by", "organisation"
    )


def bookings_for(
    user,
    *,
    venue: Venue | None = None,
    resource: Resource | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    mine: bool = False,
    statuses: list[str] | None = None,
) -> QuerySet[Booking]:
    qs = visible_bookings(user)
    if mine:
        qs = qs.filter(booked_by=user)
    if venue is not None:
        qs = qs.filter(venue=venue)
    if resource is not None:
        qs = qs.filter(resource=resource)
    if start is not None:
        qs = qs.filter(ends_at__gt=start)
    if end is not None:
        qs = qs.filter(starts_at__lt=end)
    if statuses:
        qs = qs.filter(status__in=statuses)
    return qs.order_by("starts_at", "pk")


def get_visible_booking(user, pk: int) -> Booking | None:
    return visible_bookings(user).filter(pk=pk).first()


def _children_by_venue(venue_ids: set[int]) -> dict[int, list[int]]:
    children: dict[int, list[int]] = defaultdict(list)
    for pk, parent_id in Resource.objects.filter(venue_id__in=venue_ids).values_list("pk", "parent_id"):
        if parent_id:
            children[parent_id].append(pk)
    return children


def busy_intervals(resources: list[Resource], start: datetime, end: datetime) -> dict[int, list[tuple]]:
    """Resource id → taken intervals in [start, end), counting what its sub-units and buffers take.
    Two queries whatever the number of resources."""
    children = _children_by_venue({r.venue_id for r in resources})
    units = {r.pk: blocking_units(r.pk, children) for r in resources}
    all_units = {u for us in units.values() for u in us}
    taken: dict[int, list[tuple]] = defaultdict(list)
    for unit, s, e in Occupancy.objects.filter(
        resource_id__in=all_units, is_active=True, starts_at__lt=end, ends_at__gt=start
    ).values_list("resource_id", "starts_at", "ends_at"):
        taken[unit].append((s, e))
    return {r.pk: sorted({iv for u in units[r.pk] for iv in taken[u]}) for r in resources}


@dataclass
class Availability:
    resource: Resource
    open: list[tuple[datetime, datetime]]
    free: list[tuple[datetime, datetime]]


def availability(
    *,
    day: date,
    venue: Venue | None = None,
    kind: str | None = None,
    min_capacity: int | None = None,
    city: str | None = None,
    start: time | None = None,
    end: time | None = None,
) -> list[Availability]:
    """Free windows per resource on a local day (each venue's own day), network-wide when no venue is
    given. `start`/`end` narrow the search to a time range of that day, e.g. 14:00–16:00."""
    resources = list(venue_selectors.resources(venue=venue, kind=kind, min_capacity=min_capacity, city=city))
    if not resources:
        return []
    venues = {r.venue_id: r.venue for r in resources}
    windows: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for oh in OpeningHours.objects.filter(venue_id__in=venues).order_by("opens_at"):
        windows[oh.venue_id][oh.weekday].append((oh.opens_at, oh.closes_at))
    closures: dict[int, list] = defaultdict(list)
    for c in Closure.objects.filter(venue_id__in=venues, starts_on__lte=day, ends_on__gte=day):
        closures[c.venue_id].append((c.starts_on, c.ends_on))
    opens = {}
    bounds = []
    for vid, v in venues.items():
        intervals = venue_rules.open_intervals(day, v.tz, windows[vid], closures[vid])
        if start is not None or end is not None:
            lo, hi = day_bounds(day, v.tz)
            lo = datetime.combine(day, start).replace(tzinfo=v.tz).astimezone(UTC) if start else lo
            hi = datetime.combine(day, end).replace(tzinfo=v.tz).astimezone(UTC) if end else hi
            intervals = [(max(s, lo), min(e, hi)) for s, e in intervals if s < hi and lo < e]
        opens[vid] = intervals
        bounds.append(day_bounds(day, v.tz))
    span_start, span_end = min(lo for lo, _ in bounds), max(hi for _, hi in bounds)
    busy = busy_intervals(resources, span_start.astimezone(UTC), span_end.astimezone(UTC))
    return [
        Availability(r, opens[r.venue_id], free_windows(opens[r.venue_id], busy[r.pk])) for r in resources
    ]
