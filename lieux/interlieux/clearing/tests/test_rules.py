"""The clearing's arithmetic, by example and by property."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lieux.interlieux.clearing import rules
from lieux.interlieux.clearing.rules import Cell, CreditBooking, CreditValue, Key

VENUES = st.integers(min_value=1, max_value=8)


@st.composite
def matrices(draw) -> list[Cell]:
    cells = {}
    for _ in range(draw(st.integers(min_value=0, max_value=30))):
        home, host = draw(VENUES), draw(VENUES)
        visits = draw(st.integers(min_value=0, max_value=500))
        half_days = visits + draw(st.integers(min_value=0, max_value=visits))
        cells[(home, host)] = Cell(home, host, visits, half_days)
    return list(cells.values())


prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50"), places=2)
unit_keys = st.builds(
    Key,
    method=st.sampled_from([rules.PER_VISIT, rules.PER_HALF_DAY]),
    unit_price=prices,
    free_allowance=st.integers(min_value=0, max_value=40),
    cap_per_pair=st.none() | st.decimals(min_value=Decimal(0), max_value=Decimal("2000"), places=2),
)
share_keys = st.builds(
    Key,
    method=st.just(rules.REVENUE_SHARE),
    revenue_share_percent=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2),
)
revenues = st.dictionaries(
    VENUES, st.decimals(min_value=Decimal(0), max_value=Decimal("100000"), places=2), max_size=8
)


credit_bookings = st.lists(
    st.builds(
        CreditBooking,
        home=VENUES,
        host=VENUES,
        forgone=st.decimals(min_value=Decimal("-20"), max_value=Decimal("500"), places=2),
    ),
    max_size=40,
)


def units(cells: list[Cell], key: Key) -> dict[tuple[int, int], int]:
    return {(c.home, c.host): key.units(c) for c in cells if c.home != c.host}


# --- value -----------------------------------------------------------------------------------------------


def test_reciprocal_visits_cancel_and_the_allowance_is_free():
    cells = [Cell(1, 2, 30, 40), Cell(2, 1, 12, 12)]
    key = Key(rules.PER_VISIT, unit_price=Decimal("5.00"), free_allowance=10)
    # 30 − 12 = 18 visits of difference, 10 free, 8 paid by venue 1 to venue 2.
    assert rules.value(cells, key) == {(1, 2): Decimal("40.00")}


def test_half_days_count_long_stays_twice_and_the_cap_limits_a_pair():
    cells = [Cell(1, 2, 30, 50), Cell(3, 2, 2, 2)]
    key = Key(rules.PER_HALF_DAY, unit_price=Decimal("7.50"), cap_per_pair=Decimal("100.00"))
    assert rules.value(cells, key) == {(1, 2): Decimal("100.00"), (3, 2): Decimal("15.00")}


def test_visits_at_ones_own_venue_are_not_cleared():
    assert rules.value([Cell(1, 1, 99, 99)], Key(rules.PER_VISIT, unit_price=Decimal(1))) == {}


def test_revenue_share_splits_to_the_cent_by_largest_remainder():
    cells = [Cell(1, 2, 1, 1), Cell(1, 3, 1, 1), Cell(1, 4, 1, 1)]
    key = Key(rules.REVENUE_SHARE, revenue_share_percent=Decimal(10))
    amounts = rules.value(cells, key, pass_revenue={1: Decimal("1.00")})
    # 10 cents in three: 3 each, the cent left to the smallest id among equal remainders.
    assert amounts == {(1, 2): Decimal("0.04"), (1, 3): Decimal("0.03"), (1, 4): Decimal("0.03")}


def test_unknown_method_is_refused():
    with pytest.raises(ValueError):
        rules.value([], Key("per_hour"))


@settings(max_examples=300, deadline=None)
@given(matrices(), unit_keys)
def test_allowance_and_cap_are_respected(cells, key):
    per_pair = units(cells, key)
    amounts = rules.value(cells, key)
    for (a, b), amount in amounts.items():
        assert (b, a) not in amounts  # one direction pays per pair
        difference = per_pair.get((a, b), 0) - per_pair.get((b, a), 0)
        assert difference > key.free_allowance
        expected = key.unit_price * (difference - key.free_allowance)
        if key.cap_per_pair is not None:
            assert amount <= key.cap_per_pair
            expected = min(expected, key.cap_per_pair)
        assert amount == expected
    for a, b in per_pair:
        if abs(per_pair.get((a, b), 0) - per_pair.get((b, a), 0)) <= key.free_allowance:
            assert (a, b) not in amounts and (b, a) not in amounts


@settings(max_examples=300, deadline=None)
@given(matrices(), share_keys, revenues)
def test_revenue_share_distributes_exactly_the_share_of_each_home_revenue(cells, key, revenue):
    amounts = rules.value(cells, key, pass_revenue=revenue)
    visitors = {c.home for c in cells if c.home != c.host and c.visits}
    for home in visitors:
        distributed = sum((a for (payer, _host), a in amounts.items() if payer == home), Decimal(0))
        assert distributed == rules.revenue_pot(revenue.get(home, Decimal(0)), key.revenue_share_percent)
    assert {payer for payer, _host in amounts} <= visitors
    assert all(a > 0 and a == a.quantize(Decimal("0.01")) for a in amounts.values())


@given(
    st.decimals(min_value=Decimal(0), max_value=Decimal("99999"), places=2),
    st.dictionaries(VENUES, st.integers(min_value=0, max_value=1000), min_size=1),
)
def test_split_to_the_cent_sums_exactly_and_follows_the_weights(total, weights):
    shares = rules.split_to_the_cent(total, weights)
    if sum(weights.values()) == 0 or total == 0:
        assert shares == {}
        return
    assert sum(shares.values()) == total
    weight_sum = sum(weights.values())
    for venue_id, share in shares.items():
        exact = total * weights[venue_id] / weight_sum
        assert abs(share - exact) < Decimal("0.01")


# --- credits used at a partner -------------------------------------------------------------------------


def test_credits_are_summed_per_ordered_pair_and_owed_in_full():
    bookings = [
        CreditBooking(home=1, host=2, forgone=Decimal("24.00")),
        CreditBooking(home=1, host=2, forgone=Decimal("12.50")),
        CreditBooking(home=2, host=1, forgone=Decimal("8.00")),
        CreditBooking(home=3, host=3, forgone=Decimal("40.00")),  # its own venue's credits
        CreditBooking(home=3, host=1, forgone=Decimal("0.00")),  # cost the host nothing
    ]
    credits = rules.value_credits(bookings)
    assert credits == [CreditValue(1, 2, 2, Decimal("36.50")), CreditValue(2, 1, 1, Decimal("8.00"))]
    # The allowance and the cap of the key do not touch them: visits 1 → 2 pay 5 × (12 − 10) = 10.
    key = Key(rules.PER_VISIT, unit_price=Decimal("5.00"), free_allowance=10, cap_per_pair=Decimal("10.00"))
    amounts = rules.add_credits(rules.value([Cell(1, 2, 12, 12)], key), credits)
    assert amounts == {(1, 2): Decimal("46.50"), (2, 1): Decimal("8.00")}
    assert rules.net(amounts) == {1: Decimal("-38.50"), 2: Decimal("38.50")}


@settings(max_examples=300, deadline=None)
@given(matrices(), unit_keys | share_keys, revenues, credit_bookings)
def test_credits_keep_balances_at_zero_and_never_lower_what_a_venue_owes(cells, key, revenue, bookings):
    visits = rules.value(cells, key, pass_revenue=revenue)
    credits = rules.value_credits(bookings)
    amounts = rules.add_credits(visits, credits)

    balances = rules.net(amounts)
    assert sum(balances.values(), Decimal(0)) == 0
    assert sum(t.amount for t in rules.settle(balances)) <= sum(amounts.values(), Decimal(0))
    for pair, amount in visits.items():
        assert amounts[pair] >= amount
    # Each venue's balance moves by exactly the credits it is due minus those it owes.
    before = rules.net(visits)
    for venue_id in set(balances) | set(before):
        due = sum((c.amount for c in credits if c.payee == venue_id), Decimal(0))
        owed = sum((c.amount for c in credits if c.payer == venue_id), Decimal(0))
        assert balances.get(venue_id, 0) - before.get(venue_id, 0) == due - owed
    # Per pair, exactly the positive amounts forgone at another venue, to the cent.
    for credit in credits:
        assert credit.payer != credit.payee and credit.amount > 0
        assert credit.amount == sum(
            (
                b.forgone
                for b in bookings
                if (b.home, b.host) == (credit.payer, credit.payee) and b.forgone > 0
            ),
            Decimal(0),
        )


# --- net and settle --------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(matrices(), unit_keys | share_keys, revenues)
def test_balances_sum_to_zero_and_transfers_reproduce_them(cells, key, revenue):
    amounts = rules.value(cells, key, pass_revenue=revenue)
    balances = rules.net(amounts)
    assert sum(balances.values(), Decimal(0)) == 0
    owed, due = rules.gross(amounts)
    for venue_id, balance in balances.items():
        assert balance == due.get(venue_id, 0) - owed.get(venue_id, 0)
    transfers = rules.settle(balances)
    moved: dict[int, Decimal] = {}
    for t in transfers:
        assert t.amount > 0 and t.debtor != t.creditor
        moved[t.debtor] = moved.get(t.debtor, Decimal(0)) - t.amount
        moved[t.creditor] = moved.get(t.creditor, Decimal(0)) + t.amount
    assert {v: b for v, b in balances.items() if b} == {v: m for v, m in moved.items() if m}
    with_balance = sum(1 for b in balances.values() if b)
    assert len(transfers) <= max(with_balance - 1, 0)


@given(st.lists(st.decimals(min_value=Decimal("-5000"), max_value=Decimal("5000"), places=2), max_size=12))
def test_settle_needs_at_most_n_minus_one_transfers(values):
    balances = {i: v for i, v in enumerate(values, start=1)}
    balances[0] = -sum(values, Decimal(0))
    transfers = rules.settle(balances)
    assert len(transfers) <= max(sum(1 for b in balances.values() if b) - 1, 0)
    debtors = {t.debtor for t in transfers}
    assert not debtors & {t.creditor for t in transfers}  # nobody both pays and receives


def test_settle_pays_the_largest_debtor_to_the_largest_creditor_first():
    transfers = rules.settle({1: Decimal(-70), 2: Decimal(-30), 3: Decimal(60), 4: Decimal(40)})
    assert transfers == [
        rules.Transfer(1, 3, Decimal(60)),
        rules.Transfer(2, 4, Decimal(30)),
        rules.Transfer(1, 4, Decimal(10)),
    ]


def test_settle_refuses_balances_that_do_not_sum_to_zero():
    with pytest.raises(ValueError):
        rules.settle({1: Decimal(1)})


def test_month_bounds():
    assert rules.month_bounds(date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert rules.month_bounds(date(2026, 12, 31)) == (date(2026, 12, 1), date(2026, 12, 31))
