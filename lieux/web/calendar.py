"""The geometry of the day and week pictures: where each block sits in a column of hours.

Pure functions, no ORM and no I/O. A column is one local day of a venue, drawn from `first_hour` to
`last_hour` of its wall clock; everything placed in it is a `Span` in percent of the column's height, so
the stylesheet alone decides how tall an hour is. Wall time rather than elapsed time: on the day clocks go
forward, 03:00 still sits one row below 02:00, as on a paper diary.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
DEFAULT_HOURS = (8, 20)

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Grid:
    """The hours a column shows, [first_hour, last_hour) of the local wall clock."""

    first_hour: int
    last_hour: int

    def __post_init__(self) -> None:
        if not 0 <= self.first_hour < self.last_hour <= 24:
            raise ValueError(f"invalid grid {self.first_hour}–{self.last_hour}")

    @property
    def hour_count(self) -> int:
        return self.last_hour - self.first_hour

    @property
    def minutes(self) -> int:
        return self.hour_count * 60

    def hours(self) -> list["HourMark"]:
        return [
            HourMark(hour=h, label=f"{h:02d}:00", top=pct((h - self.first_hour) * 60, self.minutes))
            for h in range(self.first_hour, self.last_hour)
        ]

    @property
    def style(self) -> str:
        return f"--hours: {self.hour_count};"


@dataclass(frozen=True)
class HourMark:
    hour: int
    label: str
    top: float

    @property
    def style(self) -> str:
        return f"top: {self.top:.4f}%;"


@dataclass(frozen=True)
class Span:
    """A stretch of a column, in percent of its height."""

    top: float
    height: float

    @property
    def style(self) -> str:
        # Built here, not in the template: the template engine would print 12,5 in French.
        return f"top: {self.top:.4f}%; height: {self.height:.4f}%;"


@dataclass(frozen=True)
class Event:
    """A booking the viewer may read. `taken_from`/`taken_until` include the resource's buffers: the
    free/busy data counts them, and they must not reappear beside the booking as an anonymous block."""

    starts_at: datetime
    ends_at: datetime
    title: str
    status: str
    mine: bool
    url: str | None = None
    taken_from: datetime | None = None
    taken_until: datetime | None = None
    note: str = ""

    @property
    def taken(self) -> Interval:
        return (self.taken_from or self.starts_at, self.taken_until or self.ends_at)


@dataclass(frozen=True)
class Block:
    """Something drawn in a column. `title` is None for a slot whose details the viewer may not read."""

    span: Span
    start_label: str
    end_label: str
    minutes: int = 60  # how much of the column it covers: decides how much text fits
    title: str | None = None
    status: str = ""
    mine: bool = False
    url: str | None = None
    note: str = ""

    @property
    def style(self) -> str:
        return self.span.style

    @property
    def size(self) -> str:
        """ "short": one line for the time and the title; "compact": the time, then the title on one
        line; "tall": room for a title on several lines and a note."""
        if self.minutes <= 30:
            return "short"
        return "compact" if self.minutes < 90 else "tall"


@dataclass(frozen=True)
class Cell:
    """A free stretch of the grid that can be clicked to start a booking there."""

    span: Span
    day: date
    start: time

    @property
    def style(self) -> str:
        return self.span.style

    @property
    def start_label(self) -> str:
        return f"{self.start:%H:%M}"


@dataclass
class Column:
    day: date
    blocks: list[Block] = field(default_factory=list)
    closed: list[Span] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    now: Span | None = None
    is_today: bool = False
    is_closed_all_day: bool = False


def pct(minutes: float, total: float) -> float:
    return round(100 * minutes / total, 4)


def week_of(day: date) -> list[date]:
    """Monday to Sunday of the week containing `day`."""
    monday = day - timedelta(days=day.weekday())
    return [monday + timedelta(days=i) for i in range(7)]


def wall_minutes(instant: datetime, day: date, tz: ZoneInfo) -> int:
    """Minutes from local midnight of `day` to `instant` on the wall clock, clamped to the day: 0 for
    anything before it, 1440 for anything after."""
    local = instant.astimezone(tz)
    if local.date() < day:
        return 0
    if local.date() > day:
        return MINUTES_PER_DAY
    return local.hour * 60 + local.minute


def window_minutes(window: tuple[time, time]) -> tuple[int, int]:
    opens, closes = window
    return opens.hour * 60 + opens.minute, closes.hour * 60 + closes.minute


def grid_for(
    windows: Iterable[tuple[time, time]],
    spans: Iterable[tuple[int, int]] = (),
    default: tuple[int, int] = DEFAULT_HOURS,
) -> Grid:
    """The whole hours covering every opening window and every drawn span (minutes from midnight);
    the default hours when there is nothing to draw."""
    starts: list[int] = []
    ends: list[int] = []
    for window in windows:
        s, e = window_minutes(window)
        starts.append(s)
        ends.append(e)
    for s, e in spans:
        if e > s:
            starts.append(s)
            ends.append(e)
    if not starts:
        return Grid(*default)
    first = min(starts) // 60
    last = -(-max(ends) // 60)
    return Grid(max(0, first), min(24, max(last, first + 1)))


def place(start_min: int, end_min: int, grid: Grid) -> Span | None:
    """The span of [start_min, end_min) within the grid, or None when nothing of it shows."""
    lo = max(start_min, grid.first_hour * 60)
    hi = min(end_min, grid.last_hour * 60)
    if hi <= lo:
        return None
    offset = grid.first_hour * 60
    return Span(top=pct(lo - offset, grid.minutes), height=pct(hi - lo, grid.minutes))


def shown_minutes(start_min: int, end_min: int, grid: Grid) -> int:
    return min(end_min, grid.last_hour * 60) - max(start_min, grid.first_hour * 60)


def day_spans(intervals: Iterable[Interval], day: date, tz: ZoneInfo) -> list[tuple[int, int]]:
    """The wall-clock minutes each interval covers on `day`, dropping those that miss it."""
    out = []
    for start, end in intervals:
        s, e = wall_minutes(start, day, tz), wall_minutes(end, day, tz)
        if e > s:
            out.append((s, e))
    return out


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Overlapping or touching intervals joined, sorted."""
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def subtract(interval: Interval, holes: Sequence[Interval]) -> list[Interval]:
    """What remains of `interval` once every hole is cut out of it."""
    pieces = [interval]
    for h_start, h_end in holes:
        next_pieces = []
        for start, end in pieces:
            if h_end <= start or end <= h_start:
                next_pieces.append((start, end))
                continue
            if start < h_start:
                next_pieces.append((start, h_start))
            if h_end < end:
                next_pieces.append((h_end, end))
        pieces = next_pieces
    return pieces


def time_label(instant: datetime, tz: ZoneInfo) -> str:
    return f"{instant.astimezone(tz):%H:%M}"


def layout_blocks(
    *, day: date, tz: ZoneInfo, grid: Grid, events: Sequence[Event], busy: Sequence[Interval]
) -> list[Block]:
    """The blocks of one column: the events the viewer may read, with their titles, and what remains of
    the busy intervals once those are cut out, merged and without a title."""
    blocks: list[Block] = []
    for event in events:
        s, e = wall_minutes(event.starts_at, day, tz), wall_minutes(event.ends_at, day, tz)
        span = place(s, e, grid)
        if span is None:
            continue
        blocks.append(
            Block(
                span=span,
                start_label=time_label(event.starts_at, tz),
                end_label=time_label(event.ends_at, tz),
                minutes=shown_minutes(s, e, grid),
                title=event.title,
                status=event.status,
                mine=event.mine,
                url=event.url,
                note=event.note,
            )
        )
    holes = [event.taken for event in events]
    anonymous = merge(piece for interval in busy for piece in subtract(interval, holes))
    for start, end in anonymous:
        s, e = wall_minutes(start, day, tz), wall_minutes(end, day, tz)
        span = place(s, e, grid)
        if span is None:
            continue
        blocks.append(
            Block(
                span=span,
                start_label=time_label(start, tz),
                end_label=time_label(end, tz),
                minutes=shown_minutes(s, e, grid),
            )
        )
    blocks.sort(key=lambda b: b.span.top)
    return blocks


def closed_spans(windows: Sequence[tuple[time, time]], grid: Grid, *, closed_all_day: bool) -> list[Span]:
    """The parts of the grid outside the opening windows of a day, to shade them."""
    if closed_all_day or not windows:
        span = place(grid.first_hour * 60, grid.last_hour * 60, grid)
        return [span] if span else []
    out = []
    cursor = grid.first_hour * 60
    for s, e in sorted(window_minutes(w) for w in windows):
        if s > cursor:
            span = place(cursor, s, grid)
            if span:
                out.append(span)
        cursor = max(cursor, e)
    if cursor < grid.last_hour * 60:
        span = place(cursor, grid.last_hour * 60, grid)
        if span:
            out.append(span)
    return out


def free_cells(
    *,
    day: date,
    windows: Sequence[tuple[time, time]],
    busy_spans: Sequence[tuple[int, int]],
    grid: Grid,
    step: int,
    not_before: int = 0,
) -> list[Cell]:
    """Cells of `step` minutes inside the opening windows that nothing overlaps and that start at or after
    `not_before` (minutes from midnight; the current time on today's column)."""
    cells = []
    for window in windows:
        w_start, w_end = window_minutes(window)
        first = -(-w_start // step) * step
        for s in range(first, w_end - step + 1, step):
            e = s + step
            if s < not_before or any(b_s < e and s < b_e for b_s, b_e in busy_spans):
                continue
            span = place(s, e, grid)
            if span is not None:
                cells.append(Cell(span=span, day=day, start=time(s // 60, s % 60)))
    return cells


def cell_step(granularity_minutes: int) -> int:
    """Half-hour cells when the resource's step fits in them, whole hours otherwise."""
    return 30 if granularity_minutes <= 30 and 30 % granularity_minutes == 0 else 60


def now_span(now: datetime, day: date, tz: ZoneInfo, grid: Grid) -> Span | None:
    """A zero-height span at the current time, when it falls within the column."""
    if now.astimezone(tz).date() != day:
        return None
    minutes = wall_minutes(now, day, tz)
    if not grid.first_hour * 60 <= minutes < grid.last_hour * 60:
        return None
    return Span(top=pct(minutes - grid.first_hour * 60, grid.minutes), height=0)
