from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from lieux.memberships.rules import credits as rules

D = Decimal

amounts = st.decimals(min_value=D("0"), max_value=D("50"), places=2)
expiries = st.one_of(st.none(), st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)))


@st.composite
def lot_lists(draw):
    size = draw(st.integers(min_value=0, max_value=8))
    return [
        rules.Lot(
            id=i + 1,
            remaining=draw(amounts),
            granted_on=draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 12, 31))),
            expires_on=draw(expiries),
        )
        for i in range(size)
    ]


def test_cost_rounds_up_to_a_quarter_credit():
    assert rules.credit_cost(D(50) / D(60), D(1)) == D("1.00")
    assert rules.credit_cost(D("1.5"), D(1)) == D("1.50")
    assert rules.credit_cost(D("1.1"), D(1)) == D("1.25")
    assert rules.credit_cost(D(2), D("0.5")) == D("1.00")
    assert rules.credit_cost(D(1), D(0)) == D("0.00")


@given(
    hours=st.decimals(min_value=D("0.01"), max_value=D("24"), places=2),
    rate=st.decimals(min_value=D("0.01"), max_value=D("10"), places=2),
)
def test_cost_is_the_smallest_quarter_not_below_the_exact_cost(hours, rate):
    cost = rules.credit_cost(hours, rate)
    assert cost >= hours * rate
    assert cost - rules.CREDIT_STEP < hours * rate
    assert cost % rules.CREDIT_STEP == 0


def test_hours_count_the_real_length_of_a_daylight_saving_night():
    start = datetime(2026, 10, 24, 22, tzinfo=UTC)
    assert rules.hours_between(start, start + timedelta(minutes=90)) == D("1.5")


@given(cost=amounts, lots=lot_lists())
def test_allocation_never_overdraws_and_takes_what_it_can(cost, lots):
    taken = rules.allocate(cost, lots)
    by_id = {lot.id: lot for lot in lots}
    assert len({lot_id for lot_id, _ in taken}) == len(taken)
    for lot_id, quantity in taken:
        assert D(0) < quantity <= by_id[lot_id].remaining
    available = sum((lot.remaining for lot in lots), D(0))
    assert sum((q for _, q in taken), D(0)) == min(cost, available)


@given(cost=amounts, lots=lot_lists())
def test_allocation_spends_the_oldest_expiry_first_and_unexpiring_lots_last(cost, lots):
    taken = rules.allocate(cost, lots)
    by_id = {lot.id: lot for lot in lots}
    order = [by_id[lot_id] for lot_id, _ in taken]
    keys = [(lot.expires_on is None, lot.expires_on or date.max) for lot in order]
    assert keys == sorted(keys)
    # Every lot but the last one used is emptied, and no skipped lot expires before a used one.
    for lot, (_, quantity) in zip(order[:-1], taken[:-1], strict=True):
        assert quantity == lot.remaining
    if order:
        last = keys[-1]
        for lot in lots:
            if lot.remaining > 0 and lot.id not in {x.id for x in order}:
                assert (lot.expires_on is None, lot.expires_on or date.max) >= last


def test_allocation_example():
    lots = [
        rules.Lot(1, D("3"), date(2026, 1, 1), None),
        rules.Lot(2, D("2"), date(2026, 1, 1), date(2026, 3, 31)),
        rules.Lot(3, D("1"), date(2026, 2, 1), date(2026, 2, 28)),
    ]
    assert rules.allocate(D("4.5"), lots) == [(3, D("1")), (2, D("2")), (1, D("1.5"))]


@given(
    remaining=amounts,
    granted_on=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 6, 30)),
    expires_on=expiries,
    on=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    today=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
)
def test_a_lot_pays_only_within_its_validity(remaining, granted_on, expires_on, on, today):
    lot = rules.Lot(1, remaining, granted_on, expires_on)
    usable = rules.is_usable(lot, on=on, today=today)
    within = granted_on <= on and (expires_on is None or (on <= expires_on and today <= expires_on))
    assert usable == (remaining > 0 and within)


def test_choose_the_first_type_that_covers_everything_else_the_largest_share():
    full = rules.Option(2, D("2"), D("5"))
    half = rules.Option(1, D("2"), D("1"))
    third = rules.Option(3, D("3"), D("1"))
    assert rules.choose_option([half, full]) == full
    assert rules.choose_option([third, half]) == half
    assert rules.choose_option([rules.Option(1, D("2"), D("0"))]) is None
    assert rules.choose_option([]) is None


@given(
    cost=st.decimals(min_value=D("0.25"), max_value=D("40"), places=2),
    share=st.fractions(min_value=0, max_value=1),
    quoted=st.decimals(min_value=D("0"), max_value=D("2000"), places=2),
)
def test_billable_is_the_uncovered_share_of_the_quote(cost, share, quoted):
    used = (cost * D(share.numerator) / D(share.denominator)).quantize(D("0.01"), rounding="ROUND_DOWN")
    coverage = rules.Coverage(cost=cost, credits_used=used)
    billable = coverage.billable(quoted)
    assert billable is not None
    assert D(0) <= billable <= quoted
    assert abs(billable - quoted * (cost - used) / cost) <= D("0.005")
    assert rules.Coverage(cost=cost, credits_used=cost).billable(quoted) == 0
    assert rules.Coverage(cost=cost, credits_used=D(0)).billable(quoted) == quoted
    assert coverage.billable(None) is None


@given(
    consumed=st.dictionaries(
        st.integers(min_value=1, max_value=6), st.decimals(min_value=D("0"), max_value=D("9"), places=2)
    ),
    expiry=st.dictionaries(st.integers(min_value=1, max_value=6), expiries),
    today=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
)
def test_refund_returns_exactly_what_was_taken_to_lots_still_valid(consumed, expiry, today):
    lots = {i: rules.Lot(i, D(0), date(2025, 1, 1), expiry.get(i)) for i in range(1, 7)}
    back = dict(rules.refunds(consumed, lots, today))
    for lot_id, quantity in consumed.items():
        expired = lots[lot_id].expires_on is not None and lots[lot_id].expires_on < today
        if quantity > 0 and not expired:
            assert back[lot_id] == quantity
        else:
            assert lot_id not in back


@given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), months=st.integers(0, 48))
def test_adding_months_keeps_month_ends_and_clamps_short_months(day, months):
    moved = rules.add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    month_end = (day + timedelta(days=1)).day == 1
    if month_end:
        assert (moved + timedelta(days=1)).day == 1
    else:
        assert moved.day == min(
            day.day, ((moved.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day
        )


def test_expiry_of_reset_and_carried_lots():
    assert rules.grant_expiry("reset", 3, date(2026, 1, 31)) == date(2026, 1, 31)
    assert rules.grant_expiry("carry", 1, date(2026, 1, 31)) == date(2026, 2, 28)
    assert rules.grant_expiry("carry", 2, date(2026, 2, 14)) == date(2026, 4, 14)
    assert rules.grant_expiry("carry", 0, date(2026, 1, 31)) is None
