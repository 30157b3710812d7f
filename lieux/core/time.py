"""The one clock of the platform, and wall-time helpers for venues in their own time zone."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

UTC = ZoneInfo("UTC")


def now() -> datetime:
    """The current instant (aware, UTC). Tests freeze or move it by patching this function."""
    return timezone.now()


class NonExistentLocalTime(ValueError):
    """A wall time skipped by a daylight-saving change (02:30 on the last Sunday of March in Paris)."""


def localize(wall: datetime, tz: ZoneInfo) -> datetime:
    """Attach `tz` to a naive wall time, refusing times that do not exist in that zone.

    Ambiguous times (the repeated hour in October) take the first occurrence (fold=0), which is what a
    person reading a clock means when nothing else is said.
    """
    if wall.tzinfo is not None:
        raise ValueError("localize() expects a naive wall time")
    aware = wall.replace(tzinfo=tz, fold=0)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        raise NonExistentLocalTime(wall.isoformat())
    return aware


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants (in UTC) at which a local calendar day starts and ends: 23 or 25 hours apart on DST
    days. UTC because Python compares and subtracts datetimes sharing one tzinfo by their wall time."""
    start = datetime.combine(day, time.min).replace(tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time.min).replace(tzinfo=tz).astimezone(UTC)
    return start, end
