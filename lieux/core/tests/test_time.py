from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lieux.core.time import NonExistentLocalTime, day_bounds, localize

PARIS = ZoneInfo("Europe/Paris")


def test_wall_time_in_the_spring_gap_does_not_exist():
    with pytest.raises(NonExistentLocalTime):
        localize(datetime(2026, 3, 29, 2, 30), PARIS)


def test_repeated_autumn_hour_takes_its_first_occurrence():
    assert localize(datetime(2026, 10, 25, 2, 30), PARIS).utcoffset().total_seconds() == 7200


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_localize_keeps_the_wall_time_or_refuses(wall):
    try:
        aware = localize(wall, PARIS)
    except NonExistentLocalTime:
        return
    assert aware.replace(tzinfo=None) == wall


def test_dst_days_last_23_and_25_hours():
    for day, hours in ((date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 6, 1), 24)):
        start, end = day_bounds(day, PARIS)
        assert (end - start).total_seconds() == hours * 3600
