"""Pure calendar and price arithmetic for venues. No ORM, no I/O."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from lieux.core.time import UTC

Window = tuple[time, time]
Interval = tuple[datetime, datetime]


def is_closed_on(day: date, closures: Sequence[tuple[date, date]]) -> bool:
    return any(first <= day <= last for first, last in closures)


def open_intervals(
    day: date, tz: ZoneInfo, windows: Mapping[int, Sequence[Window]], closures: Sequence[tuple[date, date]]
) -> list[Interval]:
    """The instants a venue is open on a local day, as aware UTC intervals."""
    if is_closed_on(day, closures):
        return []
    out = []
    for opens, closes in windows.get(day.weekday(), ()):
        start = datetime.combine(day, opens).replace(tzinfo=tz).astimezone(UTC)
        end = datetime.combine(day, closes).replace(tzinfo=tz).astimezone(UTC)
        out.append((start, end))
    return out


def within_opening_hours(
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    windows: Mapping[int, Sequence[Window]],
    closures: Sequence[tuple[date, date]],
) -> bool:
    """True when [start, end) lies inside one opening window of one open day."""
    day = start.astimezone(tz).date()
    return any(o <= start and end <= c for o, c in open_intervals(day, tz, windows, closures))


def subtract(window: Interval, busy: Sequence[Interval]) -> list[Interval]:
    """Free parts of `window` once the (possibly overlapping, unsorted) `busy` intervals are removed."""
    free = []
    cursor, limit = window
    for b_start, b_end in sorted(busy):
        if b_end <= cursor:
            continue
        if b_start >= limit:
            break
        if b_start > cursor:
            free.append((cursor, b_start))
        cursor = max(cursor, b_end)
    if cursor < limit:
        free.append((cursor, limit))
    return free


CENT = Decimal("0.01")


def quote(duration: timedelta, prices: Mapping[str, Decimal], half_day_hours: int) -> Decimal | None:
    """The cheapest price for `duration` from per-hour, per-half-day and per-day prices.

    A started hour is due in full; a half-day or a day may cover less time than it lasts when that is
    cheaper (four hours at 15 € cost 50 € rather than 60 € when a half-day costs 50 €). None when the
    resource has no price for this audience.
    """
    if not prices:
        return None
    hours = -(-int(duration.total_seconds()) // 3600)  # ceiling
    units = {"hour": 1, "half_day": half_day_hours, "day": 2 * half_day_hours}
    options = [(units[u], p) for u, p in prices.items() if u in units]
    best = [Decimal(0)] + [Decimal("Infinity")] * hours
    for h in range(1, hours + 1):
        best[h] = min(price + best[max(0, h - length)] for length, price in options)
    return best[hours].quantize(CENT, rounding=ROUND_HALF_UP)
