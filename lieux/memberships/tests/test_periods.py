from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from lieux.memberships.rules import periods as P

D = Decimal

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
intervals = st.sampled_from([P.MONTH, P.YEAR])
amounts = st.decimals(min_value=D("0"), max_value=D("5000"), places=2)
policies = st.sampled_from([P.BY_DAY, P.NO_PRORATION])


def test_month_end_anchor_follows_short_months_and_comes_back():
    anchor = date(2027, 1, 31)
    starts = [P.period_start(anchor, P.MONTH, n) for n in range(5)]
    assert starts == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 31),
    ]
    assert P.period_start(date(2028, 1, 31), P.MONTH, 1) == date(2028, 2, 29)  # leap year
    assert P.nth_period(anchor, P.MONTH, 0) == P.Period(date(2027, 1, 31), date(2027, 2, 27))
    assert P.nth_period(anchor, P.MONTH, 1) == P.Period(date(2027, 2, 28), date(2027, 3, 30))


def test_yearly_periods_keep_the_anniversary_and_the_29th_of_february():
    anchor = date(2028, 2, 29)
    assert P.nth_period(anchor, P.YEAR, 0) == P.Period(date(2028, 2, 29), date(2029, 2, 27))
    assert P.period_start(anchor, P.YEAR, 4) == date(2032, 2, 29)
    assert P.period_containing(date(2026, 9, 15), P.YEAR, date(2027, 9, 14)).start == date(2026, 9, 15)


@given(anchor=days, interval=intervals, index=st.integers(min_value=-30, max_value=60))
def test_consecutive_periods_tile_time_without_gap_or_overlap(anchor, interval, index):
    first, second = P.nth_period(anchor, interval, index), P.nth_period(anchor, interval, index + 1)
    assert first.end + timedelta(days=1) == second.start
    assert first.start <= first.end
    if interval == P.MONTH:
        assert 28 <= first.days <= 31
    else:
        assert first.days in (365, 366)
    # Each start is on the anchor's day of the month, or on the last day of a shorter month.
    assert first.start.day == anchor.day or (
        first.start.day < anchor.day and (first.start + timedelta(days=1)).day == 1
    )


@given(anchor=days, interval=intervals, day=days)
def test_every_day_belongs_to_exactly_one_period(anchor, interval, day):
    period = P.period_containing(anchor, interval, day)
    assert day in period
    index = P.period_index(anchor, interval, day)
    assert day not in P.nth_period(anchor, interval, index - 1)
    assert day not in P.nth_period(anchor, interval, index + 1)


@given(
    anchor=days, interval=intervals, offset=st.integers(min_value=0, max_value=800), span=st.integers(0, 900)
)
def test_periods_until_continue_the_current_one_up_to_the_limit(anchor, interval, offset, span):
    current = P.period_containing(anchor, interval, anchor + timedelta(days=offset))
    until = current.start + timedelta(days=span)
    following = list(P.periods_until(anchor, interval, current, until))
    chain = [current, *following]
    for before, after in pairwise(chain):
        assert before.end + timedelta(days=1) == after.start
    assert all(p.start <= until for p in following)
    assert chain[-1].end >= until


def test_a_period_is_priced_by_the_step_in_force_on_its_first_day():
    steps = [
        P.PriceStep(date(2026, 9, 1), D("80"), "tarif solidaire"),
        P.PriceStep(date(2027, 3, 15), D("120")),
    ]
    assert P.price_at(steps, date(2026, 8, 31)) is None
    assert P.period_price(steps, P.Period(date(2027, 3, 1), date(2027, 3, 31))) == D("80")  # step mid-period
    assert P.period_price(steps, P.Period(date(2027, 4, 1), date(2027, 4, 30))) == D("120")
    assert P.period_price(steps, P.Period(date(2027, 3, 15), date(2027, 4, 14))) == D("120")
    assert P.step_at(reversed(steps), date(2027, 1, 1)).label == "tarif solidaire"
    assert P.upcoming_steps(steps, date(2027, 1, 1)) == [steps[1]]


@given(anchor=days, interval=intervals, amount=amounts, policy=policies)
def test_prorating_a_whole_period_gives_the_whole_price(anchor, interval, amount, policy):
    period = P.nth_period(anchor, interval, 0)
    assert P.charge_for_rest(amount, period, period.start, policy) == amount
    assert P.credit_for_unused(amount, period, period.start, policy) == amount
    assert P.charge_for_rest(amount, period, period.end + timedelta(days=1), policy) == 0
    assert P.credit_for_unused(amount, period, period.end + timedelta(days=1), policy) == 0


def test_proration_by_day_rounds_half_up_to_the_cent():
    december = P.Period(date(2026, 12, 1), date(2026, 12, 31))
    assert P.remaining_days(december, date(2026, 12, 10)) == 22
    assert P.prorated(D("150"), december, date(2026, 12, 10)) == D("106.45")  # 150 × 22 / 31 = 106.4516…
    assert P.prorated(D("0.31"), P.Period(date(2027, 1, 1), date(2027, 1, 2)), date(2027, 1, 2)) == D("0.16")
    assert P.charge_for_rest(D("150"), december, date(2026, 12, 10), P.NO_PRORATION) == D("150")
    assert P.credit_for_unused(D("150"), december, date(2026, 12, 10), P.NO_PRORATION) == 0


@given(anchor=days, amount=amounts, offset=st.integers(0, 30))
def test_the_days_used_and_the_days_left_add_up_to_the_price(anchor, amount, offset):
    period = P.nth_period(anchor, P.MONTH, 0)
    split = period.start + timedelta(days=offset)
    assume(split <= period.end)
    used = amount - P.credit_for_unused(amount, period, split, P.BY_DAY)
    left = P.charge_for_rest(amount, period, split, P.BY_DAY)
    assert 0 <= left <= amount and 0 <= used <= amount
    assert used + left == amount


@given(
    anchor=days,
    interval=intervals,
    old=amounts,
    new=amounts,
    offset=st.integers(0, 400),
    old_policy=policies,
    new_policy=policies,
)
def test_credit_and_new_charge_of_a_plan_change_are_consistent(
    anchor, interval, old, new, offset, old_policy, new_policy
):
    period = P.nth_period(anchor, interval, 0)
    change = period.start + timedelta(days=offset)
    assume(change <= period.end)
    credit = P.credit_for_unused(old, period, change, old_policy)
    charge = P.charge_for_rest(new, period, change, new_policy)
    assert 0 <= credit <= old and 0 <= charge <= new
    if old_policy == new_policy == P.BY_DAY:
        # What the member pays on balance is the price difference over the days left, to a cent per side.
        exact = (new - old) * P.remaining_days(period, change) / period.days
        assert abs((charge - credit) - exact) <= D("0.01")
        if old == new:
            assert charge == credit  # the same price both sides: nothing to pay, nothing given back
    if change == period.start:
        assert (credit, charge) == (old, new)  # a change before any day was used swaps whole periods
    if new_policy == P.NO_PRORATION:
        assert charge == new
    if old_policy == P.NO_PRORATION and change > period.start:
        assert credit == 0


@given(anchor=days, months=st.integers(1, 36))
def test_a_commitment_ends_with_a_monthly_period(anchor, months):
    end = P.commitment_end(anchor, months)
    assert end == P.nth_period(anchor, P.MONTH, months - 1).end
    assert P.commitment_end(anchor, 0) is None


def test_notice_and_commitment_push_the_earliest_end():
    anchor = date(2026, 10, 5)
    kwargs = {"anchor": anchor, "interval": P.MONTH}
    assert P.earliest_end(today=date(2026, 12, 10), **kwargs) == date(2027, 1, 4)
    assert P.earliest_end(today=date(2026, 12, 10), notice_days=30, **kwargs) == date(2027, 2, 4)
    assert P.earliest_end(
        today=date(2026, 12, 10), notice_days=30, commitment_ends_on=date(2027, 4, 4), **kwargs
    ) == date(2027, 4, 4)
    assert P.earliest_end(today=date(2026, 12, 10), notice_days=30, at_period_end=False, **kwargs) == date(
        2027, 1, 9
    )


@given(
    anchor=days,
    interval=intervals,
    offset=st.integers(0, 1000),
    notice=st.integers(0, 120),
    commitment=st.integers(0, 24),
)
def test_the_earliest_end_respects_notice_and_commitment_and_ends_a_period(
    anchor, interval, offset, notice, commitment
):
    today = anchor + timedelta(days=offset)
    committed = P.commitment_end(anchor, commitment)
    end = P.earliest_end(
        today=today, anchor=anchor, interval=interval, notice_days=notice, commitment_ends_on=committed
    )
    assert end >= today + timedelta(days=notice)
    assert committed is None or end >= committed
    assert P.is_period_end(anchor, interval, end)
    # And it is the earliest such period end.
    previous = P.period_containing(anchor, interval, end).start - timedelta(days=1)
    assert previous < today + timedelta(days=notice) or (committed is not None and previous < committed)


def test_trial_and_single_periods():
    assert P.trial_end(date(2026, 12, 1), 14) == date(2026, 12, 14)
    assert P.trial_end(date(2026, 12, 1), 0) is None
    assert P.once_period(date(2026, 12, 1), 183) == P.Period(date(2026, 12, 1), date(2027, 6, 1))
    assert P.once_period(date(2026, 12, 1), None) == P.Period(date(2026, 12, 1), date(2026, 12, 1))
    assert P.month_bounds(date(2027, 2, 1)) == P.Period(date(2027, 2, 1), date(2027, 2, 28))
    with pytest.raises(ValueError):
        P.month_bounds(date(2027, 2, 2))
    with pytest.raises(ValueError):
        P.Period(date(2027, 2, 2), date(2027, 2, 1))
