"""Closing a budget: simply when it fits its envelope; pro rata, by carry-over or by top-up in deficit."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lieux.contributions.errors_budgets import BudgetClosed, NotEnoughCash
from lieux.contributions.models import (
    Account,
    Budget,
    BudgetStatus,
    Closing,
    CreditConversion,
    FundingSource,
    LedgerEntry,
    SourceKind,
    TransactionKind,
)
from lieux.contributions.rules.closing import reduce_pro_rata, split_cents
from lieux.contributions.services.closing import TopUp, close_budget
from lieux.contributions.services.funding import record_receipt
from lieux.contributions.services.payouts import pay_in_credit, pay_in_euros
from lieux.core.errors import Conflict, ValidationError
from lieux.core.models import AuditEvent
from tests import contributions_data as data
from tests.budget_data import assert_ledger_sound, fund, request, validated
from tests.credits_data import credit_type

D = Decimal


@pytest.fixture
def budget(network, venue):
    data.project(network, venue=venue)
    return data.budget(network, venue=venue)


@pytest.fixture
def next_budget(network, venue):
    return data.budget(
        network, "fabrique-2027", venue=venue, starts_on=date(2027, 1, 1), ends_on=date(2027, 12, 31)
    )


def test_a_budget_within_its_envelope_closes_as_it_is_and_then_takes_nothing_new(budget, member, manager):
    fund(budget, "1000", received="1000")
    validated(budget, member, "600")
    closed = close_budget(budget=budget, actor=manager)
    assert (closed.status, closed.closed_with) == (BudgetStatus.CLOSED, "")
    assert closed.closed_at is not None
    event = AuditEvent.objects.get(action="contributions.budget.closed")
    assert event.data["method"] is None and event.data["deficit"] == "0.00"
    assert close_budget(budget=budget, actor=manager) == closed  # closing again changes nothing
    with pytest.raises(BudgetClosed):
        fund(budget, "10", name="Encore")
    # What it owes is still paid after closing.
    payout = pay_in_euros(
        budget=budget, person=member, invoice_reference="F", paid_on=date(2027, 1, 5), actor=manager
    )
    assert payout.amount == D(600)


def test_a_budget_in_deficit_needs_a_method(budget, member):
    fund(budget, "100")
    validated(budget, member, "150")
    with pytest.raises(ValidationError) as refused:
        close_budget(budget=budget)
    assert (refused.value.code, refused.value.extra["deficit"]) == ("method_required", "50.00")
    budget.refresh_from_db()
    assert budget.status != BudgetStatus.CLOSED


def test_requests_awaiting_review_must_be_decided_before_closing(budget, member):
    fund(budget, "100")
    request(budget, member, "20")
    with pytest.raises(Conflict) as refused:
        close_budget(budget=budget)
    assert (refused.value.code, refused.value.extra["pending"]) == ("requests_pending", 1)


def test_pro_rata_reduces_every_unpaid_request_to_the_cent_and_leaves_none_unaccounted(
    budget, member, other_member, manager
):
    fund(budget, "1000", received="1000")
    paid = validated(budget, member, "50")
    pay_in_euros(
        budget=budget, person=member, invoice_reference="F-0", paid_on=date(2026, 6, 1), contributions=[paid]
    )
    a = validated(budget, member, "400")
    b = validated(budget, member, "400")
    c = validated(budget, other_member, "300")
    budget = close_budget(budget=budget, method=Closing.PRO_RATA, actor=manager)
    # 950 € are left for 1,100 € unpaid: each keeps 950/1100 of its amount; the cents that do not divide go
    # to the largest remainders.
    for made, expected in [(a, "345.46"), (b, "345.45"), (c, "259.09"), (paid, "50")]:
        made.refresh_from_db()
        assert made.amount_granted == D(expected), made
    reductions = dict(
        LedgerEntry.objects.filter(
            transaction__kind=TransactionKind.REDUCTION, account=Account.OWED
        ).values_list("person_id", "amount")
    )
    assert reductions == {member.pk: D("109.09"), other_member.pk: D("40.91")}
    figures = assert_ledger_sound(budget)
    assert (figures.validated, figures.reduced, figures.granted, figures.remaining) == (
        D(1150),
        D(150),
        D(1000),
        0,
    )
    assert figures.owed == D(950) and figures.state == "closed"
    assert AuditEvent.objects.filter(action="contributions.contribution.reduced").count() == 3


def test_pro_rata_is_impossible_once_more_than_the_envelope_is_paid(budget, member, network, other_venue):
    conversion = CreditConversion.objects.create(
        network=network, credit_type=credit_type(other_venue), euros_per_credit=D("10")
    )
    fund(budget, "100")
    validated(budget, member, "150")
    pay_in_credit(budget=budget, person=member, conversion=conversion, actor=member)  # credit needs no cash
    with pytest.raises(ValidationError) as refused:
        close_budget(budget=budget, method=Closing.PRO_RATA)
    assert refused.value.code == "pro_rata_impossible"
    assert not LedgerEntry.objects.filter(transaction__kind=TransactionKind.REDUCTION).exists()


def test_carrying_over_moves_the_excess_to_the_next_budget_with_its_cash(
    budget, next_budget, member, manager
):
    fund(budget, "1000", received="1000")
    first = validated(budget, member, "1000")
    validated(budget, member, "100")
    fund(next_budget, "5000", name="Fabrique 2027")
    close_budget(budget=budget, method=Closing.CARRY_OVER, next_budget=next_budget, actor=manager)
    budget.refresh_from_db()
    assert (budget.carried_to, budget.closed_with) == (next_budget, Closing.CARRY_OVER)
    here = FundingSource.objects.get(budget=budget, kind=SourceKind.CARRIED_OVER)
    there = FundingSource.objects.get(budget=next_budget, kind=SourceKind.CARRIED_OVER)
    assert (here.amount, there.amount) == (D(100), D(-100))
    this_year = assert_ledger_sound(budget)
    assert (this_year.committed, this_year.granted, this_year.remaining) == (D(1100), D(1100), 0)
    assert assert_ledger_sound(next_budget).remaining == D(4900)

    pay = {"budget": budget, "person": member, "paid_on": date(2027, 1, 5), "actor": manager}
    pay_in_euros(invoice_reference="F-1", contributions=[first], **pay)
    with pytest.raises(NotEnoughCash):
        pay_in_euros(invoice_reference="F-2", **pay)
    # The 100 € carried over come from next year's cash, once it has some.
    with pytest.raises(NotEnoughCash):
        record_receipt(source=here, amount="100", received_on=date(2027, 1, 10), actor=manager)
    with pytest.raises(ValidationError) as refused:
        record_receipt(source=there, amount="100", received_on=date(2027, 1, 10), actor=manager)
    assert refused.value.code == "negative_source"
    record_receipt(
        source=FundingSource.objects.get(budget=next_budget, name="Fabrique 2027"),
        amount="2000",
        received_on=date(2027, 1, 8),
    )
    record_receipt(source=here, amount="100", received_on=date(2027, 1, 10), reference="INT-1", actor=manager)
    assert (assert_ledger_sound(budget).cash, assert_ledger_sound(next_budget).cash) == (D(100), D(1900))
    assert assert_ledger_sound(next_budget).received == D(1900)
    pay_in_euros(invoice_reference="F-2", **pay)
    assert assert_ledger_sound(budget).owed == 0


def test_topping_up_needs_a_source_covering_the_deficit(budget, member, manager):
    fund(budget, "1000")
    validated(budget, member, "1250")
    short = TopUp(
        name="Part de La Coroutine", amount="249.99", committed_on=date(2026, 12, 20), kind="venue_share"
    )
    with pytest.raises(ValidationError) as refused:
        close_budget(budget=budget, method=Closing.TOP_UP, top_up=short, actor=manager)
    assert refused.value.code == "top_up_too_small"
    assert FundingSource.objects.count() == 1
    enough = TopUp(
        name="Part de La Coroutine", amount="300", committed_on=date(2026, 12, 20), kind="venue_share"
    )
    budget = close_budget(budget=budget, method=Closing.TOP_UP, top_up=enough, actor=manager)
    figures = assert_ledger_sound(budget)
    assert (figures.committed, figures.remaining, figures.state) == (D(1300), D(50), "closed")


def test_a_closed_budget_cannot_be_closed_again_another_way(budget, next_budget, member):
    fund(budget, "100")
    validated(budget, member, "150")
    close_budget(budget=budget, method=Closing.PRO_RATA)
    with pytest.raises(Conflict):
        close_budget(budget=budget, method=Closing.CARRY_OVER, next_budget=next_budget)
    assert Budget.objects.get(pk=budget.pk).closed_with == Closing.PRO_RATA


amounts = st.integers(0, 500_000).map(lambda c: D(c) / 100)


@given(weights=st.lists(amounts, min_size=1, max_size=30), total=amounts)
def test_split_cents_gives_every_cent_to_someone_and_each_part_its_share_within_a_cent(weights, total):
    keyed = dict(enumerate(weights))
    if not any(weights):
        return
    parts = split_cents(total, keyed)
    assert sum(parts.values()) == total
    weight_sum = sum(Fraction(w) for w in weights)
    for key, part in parts.items():
        exact = Fraction(total) * Fraction(keyed[key]) / weight_sum
        assert abs(Fraction(part) - exact) < Fraction(1, 100)
        assert part >= 0 and part == part.quantize(D("0.01"))


@given(granted=st.lists(amounts, min_size=1, max_size=30), cut=st.floats(0, 1))
def test_a_pro_rata_reduction_reaches_its_target_and_grows_no_request(granted, cut):
    keyed = dict(enumerate(granted))
    total = sum(granted, D(0))
    target = (total * D(str(cut))).quantize(D("0.01"))
    if target > total:
        target = total
    reduced = reduce_pro_rata(keyed, target)
    assert sum(reduced.values()) == target
    assert all(0 <= reduced[k] <= keyed[k] for k in keyed)
