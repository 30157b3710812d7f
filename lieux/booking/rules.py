"""Pure booking arithmetic: which units a booking blocks, rule checks, recurrence, free windows.

No ORM and no I/O, so every function here is property-tested in isolation.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil import rrule
from django.utils.translation import gettext as _

from lieux.core.time import NonExistentLocalTime, localize
from lieux.venues.rules import subtract


def blocking_units(resource_id: int, children: Mapping[int, Sequence[int]]) -> list[int]:
    """The leaf resources a booking of `resource_id` occupies, sorted (the order locks are taken in).

    Booking a leaf occupies itself; booking a parent occupies every leaf below it. Two bookings then
    collide exactly when one covers part of the other: the hall and one of its rooms collide, two sibling
    rooms do not.
    """
    leaves, stack = [], [resource_id]
    while stack:
        node = stack.pop()
        below = children.get(node, ())
        if below:
            stack.extend(below)
        else:
            leaves.append(node)
    return sorted(set(leaves))


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open intervals: 10:00–11:00 and 11:00–12:00 do not overlap."""
    return a_start < b_end and b_start < a_end


@dataclass(frozen=True)
class ResourceRules:
    min_duration: timedelta
    max_duration: timedelta
    granularity_minutes: int
    max_advance_days: int


def rule_violations(
    start: datetime, end: datetime, *, rules: ResourceRules, tz: ZoneInfo, now: datetime, staff: bool
) -> list[tuple[str, str]]:
    """(code, message) for every booking rule that [start, end) breaks. Staff may book in the past or
    beyond the advance window (to record an event or plan next year's), but not break the shape rules."""
    problems = []
    if start.tzinfo is None or end.tzinfo is None:
        return [("naive_datetime", _("Dates must include a time zone offset."))]
    if end <= start:
        return [("end_before_start", _("The end must be after the start."))]
    duration = end - start
    if duration < rules.min_duration:
        problems.append(
            ("too_short", _("A booking lasts at least %(d)s.") % {"d": human_duration(rules.min_duration)})
        )
    if duration > rules.max_duration:
        problems.append(
            ("too_long", _("A booking lasts at most %(d)s.") % {"d": human_duration(rules.max_duration)})
        )
    step = rules.granularity_minutes
    for moment in (start, end):
        local = moment.astimezone(tz)
        if (local.hour * 60 + local.minute) % step or local.second or local.microsecond:
            problems.append(("off_grid", _("Start and end must fall on a %(n)s-minute step.") % {"n": step}))
            break
    if not staff:
        if start < now:
            problems.append(("in_the_past", _("This slot has already started.")))
        if start > now + timedelta(days=rules.max_advance_days):
            problems.append(
                (
                    "too_far_ahead",
                    _("This resource can be booked at most %(n)s days ahead.")
                    % {"n": rules.max_advance_days},
                )
            )
    return problems


def human_duration(d: timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes:02d}"
    return f"{hours} h" if hours else f"{minutes} min"


@dataclass(frozen=True)
class Recurrence:
    frequency: str  # daily | weekly | monthly
    interval: int = 1
    count: int | None = None
    until: date | None = None
    weekdays: tuple[int, ...] = ()  # 0 = Monday; weekly only
    exceptions: tuple[date, ...] = ()


MAX_OCCURRENCES = 366
_FREQ: dict[str, Literal[0, 1, 2, 3, 4, 5, 6]] = {
    "daily": rrule.DAILY,
    "weekly": rrule.WEEKLY,
    "monthly": rrule.MONTHLY,
}


@dataclass(frozen=True)
class Occurrence:
    local_start: datetime  # naive wall time
    start: datetime | None  # aware; None when the wall time does not exist (DST gap)
    end: datetime | None


def expand(
    first_start: datetime, first_end: datetime, recurrence: Recurrence, tz: ZoneInfo
) -> list[Occurrence]:
    """Occurrences of a series in the venue's wall time: a 18:00–20:00 weekly booking stays 18:00–20:00
    on both sides of a daylight-saving change, so its UTC instants shift by an hour."""
    if recurrence.count is None and recurrence.until is None:
        raise ValueError(_("A recurring booking needs an end date or a number of occurrences."))
    if recurrence.frequency not in _FREQ:
        raise ValueError(_("Unknown frequency."))
    if recurrence.interval < 1:
        raise ValueError(_("The interval must be at least 1."))
    wall_start = first_start.astimezone(tz).replace(tzinfo=None)
    wall_length = first_end.astimezone(tz).replace(tzinfo=None) - wall_start
    until = None
    if recurrence.until is not None:
        until = datetime.combine(recurrence.until, wall_start.time())
    rule = rrule.rrule(
        _FREQ[recurrence.frequency],
        dtstart=wall_start,
        interval=recurrence.interval,
        count=recurrence.count,
        until=until,
        byweekday=(recurrence.weekdays or None) if recurrence.frequency == "weekly" else None,
    )
    skipped = set(recurrence.exceptions)
    out: list[Occurrence] = []
    for wall in rule:
        if wall.date() in skipped:
            continue
        if len(out) == MAX_OCCURRENCES:
            raise ValueError(_("A series has at most %(n)s occurrences.") % {"n": MAX_OCCURRENCES})
        try:
            out.append(Occurrence(wall, localize(wall, tz), localize(wall + wall_length, tz)))
        except NonExistentLocalTime:
            out.append(Occurrence(wall, None, None))
    return out


def free_windows(
    open_intervals: Iterable[tuple[datetime, datetime]], busy: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for window in open_intervals:
        out.extend(subtract(window, busy))
    return out
