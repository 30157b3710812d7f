"""The geometry of the calendar pictures, without a database."""

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lieux.web import calendar
from lieux.web.calendar import Event, Grid, Span

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 12, 8)
SPRING_FORWARD = date(2027, 3, 28)  # 02:00 → 03:00 in Paris
FALL_BACK = date(2026, 10, 25)  # 03:00 → 02:00 in Paris


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm)).replace(tzinfo=PARIS)


GRID = Grid(8, 20)  # 720 minutes


def test_a_block_sits_where_its_hours_are_in_percent_of_the_column():
    assert calendar.place(9 * 60, 10 * 60 + 30, GRID) == Span(top=8.3333, height=12.5)
    assert calendar.place(8 * 60, 20 * 60, GRID) == Span(top=0, height=100)


def test_a_block_is_clipped_to_the_grid_and_dropped_when_outside():
    assert calendar.place(6 * 60, 9 * 60, GRID) == Span(top=0, height=8.3333)
    assert calendar.place(19 * 60, 23 * 60, GRID) == Span(top=91.6667, height=8.3333)
    assert calendar.place(21 * 60, 22 * 60, GRID) is None
    assert calendar.place(10 * 60, 10 * 60, GRID) is None


def test_styles_are_css_with_a_dot_whatever_the_language():
    assert Span(top=12.5, height=4.25).style == "top: 12.5000%; height: 4.2500%;"
    assert GRID.style == "--hours: 12;"


def test_the_grid_covers_opening_hours_and_anything_booked_outside_them():
    windows = [(time(8, 30), time(12)), (time(14), time(18, 15))]
    assert calendar.grid_for(windows) == Grid(8, 19)
    # Staff booked 19:00–22:00: the grid grows to show it.
    assert calendar.grid_for(windows, [(19 * 60, 22 * 60)]) == Grid(8, 22)
    assert calendar.grid_for([], []) == Grid(*calendar.DEFAULT_HOURS)
    assert calendar.grid_for([], [(0, 24 * 60)]) == Grid(0, 24)


def test_a_grid_refuses_impossible_hours():
    with pytest.raises(ValueError):
        Grid(10, 10)
    with pytest.raises(ValueError):
        Grid(0, 25)


def test_hour_marks_label_each_hour_at_its_line():
    marks = Grid(8, 11).hours()
    assert [(m.label, m.top) for m in marks] == [("08:00", 0), ("09:00", 33.3333), ("10:00", 66.6667)]


def test_wall_minutes_clamp_to_the_day():
    assert calendar.wall_minutes(at(DAY, 9, 15), DAY, PARIS) == 9 * 60 + 15
    assert calendar.wall_minutes(at(DAY - timedelta(days=1), 23), DAY, PARIS) == 0
    assert calendar.wall_minutes(at(DAY + timedelta(days=1), 1), DAY, PARIS) == 24 * 60
    # UTC instants are read on the venue's wall clock.
    assert calendar.wall_minutes(at(DAY, 9).astimezone(ZoneInfo("UTC")), DAY, PARIS) == 9 * 60


def test_on_the_day_clocks_go_forward_blocks_follow_the_wall_clock():
    """01:00–04:00 lasts two hours that night, but is drawn from the 01:00 line to the 04:00 line."""
    start, end = at(SPRING_FORWARD, 1), at(SPRING_FORWARD, 4)
    utc = ZoneInfo("UTC")
    assert end.astimezone(utc) - start.astimezone(utc) == timedelta(hours=2)
    grid = Grid(0, 6)
    span = calendar.place(
        calendar.wall_minutes(start, SPRING_FORWARD, PARIS),
        calendar.wall_minutes(end, SPRING_FORWARD, PARIS),
        grid,
    )
    assert span == Span(top=16.6667, height=50)


def test_a_booking_across_midnight_shows_on_both_days():
    start, end = at(DAY, 22), at(DAY + timedelta(days=1), 2)
    assert calendar.day_spans([(start, end)], DAY, PARIS) == [(22 * 60, 24 * 60)]
    assert calendar.day_spans([(start, end)], DAY + timedelta(days=1), PARIS) == [(0, 2 * 60)]
    assert calendar.day_spans([(start, end)], DAY + timedelta(days=2), PARIS) == []


def test_week_of_runs_monday_to_sunday():
    week = calendar.week_of(date(2026, 12, 10))  # a Thursday
    assert week[0] == date(2026, 12, 7) and week[-1] == date(2026, 12, 13)
    assert [d.weekday() for d in week] == list(range(7))


def event(h1, h2, *, title="Réunion", mine=True, buffer_after=0, status="confirmed"):
    start, end = at(DAY, *h1), at(DAY, *h2)
    return Event(
        starts_at=start,
        ends_at=end,
        title=title,
        status=status,
        mine=mine,
        url="/reservations/1/",
        taken_from=start,
        taken_until=end + timedelta(minutes=buffer_after),
    )


def test_readable_bookings_show_their_titles_and_the_rest_is_anonymous():
    mine = event((10,), (11,), buffer_after=15)
    busy = [(at(DAY, 10), at(DAY, 11, 15)), (at(DAY, 14), at(DAY, 15)), (at(DAY, 14, 30), at(DAY, 16))]
    blocks = calendar.layout_blocks(day=DAY, tz=PARIS, grid=GRID, events=[mine], busy=busy)
    assert [(b.start_label, b.end_label, b.title) for b in blocks] == [
        ("10:00", "11:00", "Réunion"),
        # The buffer after the readable booking is its own, not someone else's booking; overlapping
        # busy intervals (two sub-rooms of a hall) merge into one block.
        ("14:00", "16:00", None),
    ]
    assert blocks[0].mine and blocks[0].url == "/reservations/1/"
    assert blocks[1].url is None and not blocks[1].mine


def test_blocks_of_other_days_are_left_out():
    other_day = Event(
        starts_at=at(DAY + timedelta(days=1), 10),
        ends_at=at(DAY + timedelta(days=1), 11),
        title="Demain",
        status="confirmed",
        mine=True,
    )
    assert calendar.layout_blocks(day=DAY, tz=PARIS, grid=GRID, events=[other_day], busy=[]) == []


def test_blocks_say_how_much_text_fits_in_them():
    events = [event((10,), (10, 30)), event((11,), (12,)), event((13,), (15,))]
    blocks = calendar.layout_blocks(
        day=DAY, tz=PARIS, grid=GRID, events=events, busy=[(at(DAY, 19), at(DAY, 23))]
    )
    assert [(b.minutes, b.size) for b in blocks] == [
        (30, "short"),
        (60, "compact"),
        (120, "tall"),
        (60, "compact"),
    ]


def test_closed_hours_are_what_the_opening_windows_leave():
    windows = [(time(9), time(12, 30)), (time(13, 30), time(18))]
    spans = calendar.closed_spans(windows, GRID, closed_all_day=False)
    as_minutes = [(round(s.top * 7.2), round((s.top + s.height) * 7.2)) for s in spans]
    assert as_minutes == [(0, 60), (270, 330), (600, 720)]  # 08–09, 12:30–13:30, 18–20
    assert calendar.closed_spans(windows, GRID, closed_all_day=True) == [Span(0, 100)]
    assert calendar.closed_spans([], GRID, closed_all_day=False) == [Span(0, 100)]


def test_free_cells_avoid_busy_time_closed_time_and_the_past():
    windows = [(time(9), time(12))]
    cells = calendar.free_cells(
        day=DAY,
        windows=windows,
        busy_spans=[(10 * 60, 10 * 60 + 45)],
        grid=GRID,
        step=30,
        not_before=9 * 60 + 10,
    )
    assert [c.start_label for c in cells] == ["09:30", "11:00", "11:30"]
    assert cells[0].day == DAY


def test_cells_are_half_hours_when_the_step_fits_and_hours_otherwise():
    assert calendar.cell_step(15) == 30
    assert calendar.cell_step(30) == 30
    assert calendar.cell_step(45) == 60
    assert calendar.cell_step(60) == 60


def test_the_current_time_is_marked_only_on_its_own_day_within_the_grid():
    assert calendar.now_span(at(DAY, 14), DAY, PARIS, GRID) == Span(top=50, height=0)
    assert calendar.now_span(at(DAY, 21), DAY, PARIS, GRID) is None
    assert calendar.now_span(at(DAY + timedelta(days=1), 14), DAY, PARIS, GRID) is None


def test_on_the_day_clocks_go_back_the_repeated_hour_is_drawn_once():
    """01:30 (summer time) to 02:30 (winter time) lasts two hours but spans one hour of wall clock."""
    start = datetime(2026, 10, 25, 1, 30, tzinfo=PARIS)
    end = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS)
    assert calendar.day_spans([(start, end)], FALL_BACK, PARIS) == [(90, 150)]


minutes = st.integers(min_value=0, max_value=24 * 60)


@given(minutes, minutes, st.integers(0, 23), st.integers(1, 24))
def test_placed_spans_always_stay_inside_the_column(a, b, first, length):
    grid = Grid(first, min(24, first + length))
    span = calendar.place(min(a, b), max(a, b), grid)
    if span is not None:
        assert 0 <= span.top <= 100
        assert 0 < span.height <= 100
        assert span.top + span.height <= 100.0001


@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 300)), max_size=8))
def test_merged_intervals_are_disjoint_and_cover_the_same_time(raw):
    base = at(DAY, 0)
    intervals = [(base + timedelta(minutes=s), base + timedelta(minutes=s + d)) for s, d in raw]
    merged = calendar.merge(intervals)
    for (_, end), (start, _) in itertools.pairwise(merged):
        assert end < start
    covered = {
        m
        for s, e in intervals
        for m in range(int((s - base).total_seconds() // 60), int((e - base).total_seconds() // 60))
    }
    covered_after = {
        m
        for s, e in merged
        for m in range(int((s - base).total_seconds() // 60), int((e - base).total_seconds() // 60))
    }
    assert covered == covered_after


def test_subtract_cuts_holes_out_of_an_interval():
    whole = (at(DAY, 9), at(DAY, 17))
    holes = [(at(DAY, 10), at(DAY, 11)), (at(DAY, 16), at(DAY, 18))]
    assert calendar.subtract(whole, holes) == [(at(DAY, 9), at(DAY, 10)), (at(DAY, 11), at(DAY, 16))]
    assert calendar.subtract(whole, [(at(DAY, 8), at(DAY, 18))]) == []


def test_text_on_a_resource_colour_stays_readable():
    from lieux.web.templatetags.lieux_web import ink_on

    assert ink_on("#2a6f97") == "#ffffff"  # the default blue
    assert ink_on("#f4d03f") == "#1c2430"  # a yellow some venue may choose
    assert ink_on("#ffffff") == "#1c2430"
    assert ink_on("not a colour") == "#ffffff"
