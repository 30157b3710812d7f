"""Property tests of the pure booking rules."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lieux.booking.rules import (
    Recurrence,
    ResourceRules,
    blocking_units,
    expand,
    free_windows,
    overlaps,
    rule_violations,
)

PARIS = ZoneInfo("Europe/Paris")


@st.composite
def trees(draw):
    """A random forest of up to 12 resources: parent[i] < i or None."""
    n = draw(st.integers(1, 12))
    parents = [None] + [draw(st.one_of(st.none(), st.integers(0, i - 1))) for i in range(1, n)]
    children: dict[int, list[int]] = {}
    for node, parent in enumerate(parents):
        if parent is not None:
            children.setdefault(parent, []).append(node)
    return parents, children


def ancestors(node, parents):
    out = []
    while parents[node] is not None:
        node = parents[node]
        out.append(node)
    return out


@given(trees(), st.data())
def test_two_resources_share_a_unit_exactly_when_one_contains_the_other(tree, data):
    parents, children = tree
    a = data.draw(st.integers(0, len(parents) - 1))
    b = data.draw(st.integers(0, len(parents) - 1))
    shared = set(blocking_units(a, children)) & set(blocking_units(b, children))
    related = a == b or a in ancestors(b, parents) or b in ancestors(a, parents)
    assert bool(shared) == related


@given(trees())
def test_units_are_sorted_leaves(tree):
    parents, children = tree
    for node in range(len(parents)):
        units = blocking_units(node, children)
        assert units == sorted(set(units))
        assert all(u not in children for u in units)


instants = st.integers(0, 48).map(lambda q: datetime(2026, 5, 4, tzinfo=UTC) + timedelta(minutes=30 * q))


@given(st.lists(st.tuples(instants, instants).filter(lambda p: p[0] < p[1]), max_size=8), instants, instants)
def test_free_windows_are_the_window_minus_busy(busy, a, b):
    if a >= b:
        return
    free = free_windows([(a, b)], busy)
    for s, e in free:
        assert a <= s < e <= b
        assert not any(overlaps(s, e, bs, be) for bs, be in busy)
    # every half-hour of the window is either free or busy
    t = a
    while t < b:
        in_free = any(s <= t < e for s, e in free)
        in_busy = any(bs <= t < be for bs, be in busy)
        assert in_free != in_busy
        t += timedelta(minutes=30)


def test_half_open_intervals_let_adjacent_slots_coexist():
    ten, eleven, noon = (datetime(2026, 5, 4, h, tzinfo=UTC) for h in (10, 11, 12))
    assert not overlaps(ten, eleven, eleven, noon)
    assert overlaps(ten, noon, eleven, noon)


RULES = ResourceRules(timedelta(minutes=30), timedelta(hours=4), 30, 60)
NOW = datetime(2026, 5, 1, 9, tzinfo=PARIS)


def codes(start, end, staff=False):
    return [c for c, _ in rule_violations(start, end, rules=RULES, tz=PARIS, now=NOW, staff=staff)]


def test_rule_violations():
    day = datetime(2026, 5, 4, tzinfo=PARIS)
    assert codes(day.replace(hour=10), day.replace(hour=11)) == []
    assert codes(day.replace(hour=11), day.replace(hour=10)) == ["end_before_start"]
    assert codes(day.replace(hour=10), day.replace(hour=15)) == ["too_long"]
    assert codes(day.replace(hour=10, minute=10), day.replace(hour=11)) == ["off_grid"]
    assert codes(datetime(2026, 4, 1, 10, tzinfo=PARIS), datetime(2026, 4, 1, 11, tzinfo=PARIS)) == [
        "in_the_past"
    ]
    far = datetime(2026, 9, 1, 10, tzinfo=PARIS)
    assert codes(far, far + timedelta(hours=1)) == ["too_far_ahead"]
    assert codes(far, far + timedelta(hours=1), staff=True) == []
    assert codes(day.replace(hour=10, tzinfo=None), day.replace(hour=11, tzinfo=None)) == ["naive_datetime"]


def test_weekly_series_keeps_its_wall_time_across_the_spring_change():
    first = datetime(2026, 3, 17, 18, tzinfo=PARIS)  # a Tuesday before the change of 29 March
    occurrences = expand(first, first + timedelta(hours=2), Recurrence("weekly", count=5), PARIS)
    assert [o.start.astimezone(PARIS).hour for o in occurrences] == [18] * 5
    assert [o.start.astimezone(UTC).hour for o in occurrences] == [17, 17, 16, 16, 16]


def test_occurrence_in_the_dst_gap_is_reported_not_shifted():
    first = datetime(2026, 3, 22, 2, 30, tzinfo=PARIS)  # Sundays at 02:30; 29 March has no 02:30
    occurrences = expand(first, first + timedelta(minutes=30), Recurrence("weekly", count=3), PARIS)
    assert [o.start is None for o in occurrences] == [False, True, False]


@given(
    st.sampled_from(["daily", "weekly", "monthly"]),
    st.integers(1, 3),
    st.integers(1, 40),
    st.lists(st.integers(0, 60), max_size=5),
)
def test_count_and_exceptions(frequency, interval, count, skipped_offsets):
    first = datetime(2026, 1, 5, 9, tzinfo=PARIS)
    exceptions = tuple(first.date() + timedelta(days=d) for d in skipped_offsets)
    occurrences = expand(
        first,
        first + timedelta(hours=1),
        Recurrence(frequency, interval, count=count, exceptions=exceptions),
        PARIS,
    )
    assert len(occurrences) <= count
    assert all(o.local_start.date() not in exceptions for o in occurrences)
    assert all(o.start is not None and o.start.astimezone(PARIS).hour == 9 for o in occurrences)


def test_until_is_inclusive_and_weekdays_are_honoured():
    first = datetime(2026, 6, 1, 9, tzinfo=PARIS)  # Monday
    occurrences = expand(
        first,
        first + timedelta(hours=1),
        Recurrence("weekly", until=date(2026, 6, 12), weekdays=(0, 2, 4)),
        PARIS,
    )
    assert [o.local_start.day for o in occurrences] == [1, 3, 5, 8, 10, 12]


def test_a_series_without_an_end_is_refused():
    first = datetime(2026, 6, 1, 9, tzinfo=PARIS)
    with pytest.raises(ValueError):
        expand(first, first + timedelta(hours=1), Recurrence("daily"), PARIS)
