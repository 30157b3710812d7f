from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from lieux.venues.rules import open_intervals, quote, within_opening_hours

PARIS = ZoneInfo("Europe/Paris")
WINDOWS = {0: [(time(9), time(12)), (time(14), time(18))]}  # Mondays, with a lunch break
MONDAY = date(2026, 6, 1)


def test_open_intervals_follow_windows_and_closures():
    assert open_intervals(MONDAY, PARIS, WINDOWS, []) == [
        (datetime(2026, 6, 1, 7, tzinfo=UTC), datetime(2026, 6, 1, 10, tzinfo=UTC)),
        (datetime(2026, 6, 1, 12, tzinfo=UTC), datetime(2026, 6, 1, 16, tzinfo=UTC)),
    ]
    assert open_intervals(MONDAY, PARIS, WINDOWS, [(MONDAY, MONDAY)]) == []
    assert open_intervals(MONDAY + timedelta(days=1), PARIS, WINDOWS, []) == []


def test_a_booking_must_fit_in_one_window():
    at = lambda h: datetime.combine(MONDAY, time(h)).replace(tzinfo=PARIS)  # noqa: E731
    assert within_opening_hours(at(9), at(12), PARIS, WINDOWS, [])
    assert not within_opening_hours(at(11), at(15), PARIS, WINDOWS, [])  # spans the lunch break


PRICES = {"hour": Decimal("15"), "half_day": Decimal("50"), "day": Decimal("90")}


def test_quote_takes_the_cheapest_combination():
    assert quote(timedelta(hours=2), PRICES, 4) == Decimal("30.00")
    assert quote(timedelta(hours=4), PRICES, 4) == Decimal("50.00")
    assert quote(timedelta(hours=5), PRICES, 4) == Decimal("65.00")
    assert quote(timedelta(hours=8), PRICES, 4) == Decimal("90.00")
    assert quote(timedelta(minutes=30), PRICES, 4) == Decimal("15.00")  # a started hour is due
    assert quote(timedelta(hours=1), {}, 4) is None


@given(st.integers(1, 60 * 24 * 3), st.integers(1, 60 * 24 * 3), st.integers(2, 6))
def test_quote_never_decreases_with_duration_nor_exceeds_hourly(m1, m2, half_day):
    short, long_ = sorted((m1, m2))
    a = quote(timedelta(minutes=short), PRICES, half_day)
    b = quote(timedelta(minutes=long_), PRICES, half_day)
    assert a <= b
    assert b <= PRICES["hour"] * -(-long_ // 60)
