"""The day view of a venue and the week view of a resource, read through the selectors and laid out by
`calendar`. A fixed number of queries per picture, whatever the number of resources and bookings.

Privacy: free/busy comes from `busy_intervals`, details from `bookings_for`, which returns only what the
viewer may read (their own bookings, every booking of the venues they staff). Anything else stays an
anonymous block.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.urls import reverse

from lieux.booking import selectors
from lieux.booking.models import BLOCKING_STATUSES, Booking
from lieux.core.time import day_bounds, now
from lieux.venues import rules as venue_rules
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import Resource, ResourceKind, Venue
from lieux.web import calendar
from lieux.web.calendar import Column, Event, Grid


@dataclass
class DayView:
    venue: Venue
    day: date
    grid: Grid
    columns: list[tuple[Resource, Column]]
    windows: list[tuple[time, time]]
    is_closed: bool
    windows_by_weekday: dict[int, list[tuple[time, time]]]

    @property
    def previous_day(self) -> date:
        return self.day - timedelta(days=1)

    @property
    def next_day(self) -> date:
        return self.day + timedelta(days=1)


@dataclass
class WeekView:
    resource: Resource
    days: list[date]
    grid: Grid
    columns: list[Column]

    @property
    def previous_week(self) -> date:
        return self.days[0] - timedelta(days=7)

    @property
    def next_week(self) -> date:
        return self.days[0] + timedelta(days=7)


KIND_ORDER = {kind: i for i, kind in enumerate(ResourceKind.values)}


def by_kind(resources: Iterable[Resource]) -> list[Resource]:
    """Rooms, then desks, then equipment, each by name: the order people look for them in."""
    return sorted(resources, key=lambda r: (KIND_ORDER.get(r.kind, len(KIND_ORDER)), r.name.lower()))


def today_at(venue: Venue) -> date:
    return now().astimezone(venue.tz).date()


def event_for(booking: Booking, user) -> Event:
    resource = booking.resource
    mine = booking.booked_by_id == getattr(user, "pk", None)
    return Event(
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        title=booking.title,
        status=booking.status,
        mine=mine,
        url=reverse("web:booking", args=[booking.pk]),
        taken_from=booking.starts_at - resource.buffer_before,
        taken_until=booking.ends_at + resource.buffer_after,
        note="" if mine else booking.booked_by.get_short_name(),
    )


def _readable(user, resources: Sequence[Resource], start: datetime, end: datetime) -> dict[int, list[Event]]:
    by_resource: dict[int, list[Event]] = defaultdict(list)
    if not getattr(user, "is_authenticated", False) or not resources:
        return by_resource
    venue = resources[0].venue
    wanted = {r.pk for r in resources}
    for booking in selectors.bookings_for(
        user, venue=venue, start=start, end=end, statuses=list(BLOCKING_STATUSES)
    ):
        if booking.resource_id in wanted:
            by_resource[booking.resource_id].append(event_for(booking, user))
    return by_resource


def _spans(day: date, venue: Venue, events: Sequence[Event], busy: Sequence[tuple]) -> list[tuple[int, int]]:
    intervals = [(e.starts_at, e.ends_at) for e in events] + list(busy)
    return calendar.day_spans(intervals, day, venue.tz)


def _column(
    *,
    day: date,
    venue: Venue,
    grid: Grid,
    windows: list[tuple[time, time]],
    closed: bool,
    events: Sequence[Event],
    busy: Sequence[tuple],
    step: int,
    current: datetime,
) -> Column:
    tz = venue.tz
    today = current.astimezone(tz).date()
    column = Column(day=day, is_today=day == today, is_closed_all_day=closed or not windows)
    column.blocks = calendar.layout_blocks(day=day, tz=tz, grid=grid, events=events, busy=busy)
    column.closed = calendar.closed_spans(windows, grid, closed_all_day=closed)
    column.now = calendar.now_span(current, day, tz, grid)
    if not closed and day >= today:
        column.cells = calendar.free_cells(
            day=day,
            windows=windows,
            busy_spans=calendar.day_spans(busy, day, tz),
            grid=grid,
            step=step,
            not_before=calendar.wall_minutes(current, day, tz) if day == today else 0,
        )
    return column


def day_view(*, venue: Venue, day: date, user, resources: Sequence[Resource]) -> DayView:
    """Every resource of a venue side by side on one local day."""
    start, end = day_bounds(day, venue.tz)
    windows_by_weekday = venue_selectors.opening_windows(venue)
    closures = venue_selectors.closures_between(venue, day, day)
    closed = venue_rules.is_closed_on(day, closures)
    windows = [] if closed else list(windows_by_weekday.get(day.weekday(), []))
    busy = selectors.busy_intervals(list(resources), start, end) if resources else {}
    events = _readable(user, resources, start, end)
    spans = [s for r in resources for s in _spans(day, venue, events[r.pk], busy.get(r.pk, []))]
    grid = calendar.grid_for(windows, spans)
    current = now()
    columns = [
        (
            r,
            _column(
                day=day,
                venue=venue,
                grid=grid,
                windows=windows,
                closed=closed,
                events=events[r.pk],
                busy=busy.get(r.pk, []),
                step=calendar.cell_step(r.granularity_minutes),
                current=current,
            ),
        )
        for r in resources
    ]
    return DayView(
        venue=venue,
        day=day,
        grid=grid,
        columns=columns,
        windows=windows,
        is_closed=closed,
        windows_by_weekday=windows_by_weekday,
    )


def week_view(*, resource: Resource, day: date, user) -> WeekView:
    """One resource from Monday to Sunday of the week containing `day`."""
    venue = resource.venue
    days = calendar.week_of(day)
    start, _ = day_bounds(days[0], venue.tz)
    _, end = day_bounds(days[-1], venue.tz)
    windows_by_weekday = venue_selectors.opening_windows(venue)
    closures = venue_selectors.closures_between(venue, days[0], days[-1])
    busy = selectors.busy_intervals([resource], start, end).get(resource.pk, [])
    events = _readable(user, [resource], start, end)[resource.pk]
    per_day = []
    spans: list[tuple[int, int]] = []
    for d in days:
        closed = venue_rules.is_closed_on(d, closures)
        windows = [] if closed else list(windows_by_weekday.get(d.weekday(), []))
        per_day.append((d, closed, windows))
        spans += _spans(d, venue, events, busy)
    all_windows = [w for _, _, windows in per_day for w in windows]
    grid = calendar.grid_for(all_windows, spans)
    current = now()
    step = calendar.cell_step(resource.granularity_minutes)
    columns = [
        _column(
            day=d,
            venue=venue,
            grid=grid,
            windows=windows,
            closed=closed,
            events=events,
            busy=busy,
            step=step,
            current=current,
        )
        for d, closed, windows in per_day
    ]
    return WeekView(resource=resource, days=days, grid=grid, columns=columns)


# Further than this from today, a date in a query string is a typo or a probe, not a plan.
MAX_YEARS_AWAY = 10


def parse_day(value: str | None, default: date) -> date:
    """A day from a query string (YYYY-MM-DD), the default when absent, malformed or absurdly far."""
    if not value:
        return default
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return default
    if abs(day.year - default.year) > MAX_YEARS_AWAY:
        return default
    return day


def parse_time(value: str | None) -> time | None:
    if not value:
        return None
    try:
        return time.fromisoformat(value)
    except ValueError:
        return None
