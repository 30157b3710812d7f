"""Whatever happens to a budget — funding, receipts, validations, payouts in euros and in credit, credit
settled to the venues that honour it, a pro-rata closing — every transaction balances, the ledger sums to
zero, the cash never goes below zero, a refused step writes nothing and the figures agree: committed −
granted − envelope left = 0, owed = validated − paid − reduced, cash = received − paid in euros − credit
settled, and paid in euros and credit issued and settled are what the payouts and settlements say."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lieux.contributions.errors_budgets import (
    AmountBelowOneCredit,
    BeyondCreditToSettle,
    NotEnoughCash,
    NothingToPay,
)
from lieux.contributions.models import (
    BudgetStatus,
    Closing,
    CreditConversion,
    CreditSettlement,
    FundingSource,
    LedgerEntry,
    LedgerTransaction,
    Payout,
    PayoutMethod,
)
from lieux.contributions.selectors import budgets as selectors
from lieux.contributions.services.closing import close_budget
from lieux.contributions.services.funding import add_funding_source, record_receipt
from lieux.contributions.services.payouts import pay_in_credit, pay_in_euros
from lieux.contributions.services.settlements import settle_credit
from lieux.core.errors import ValidationError
from lieux.core.money import cents
from tests import contributions_data as data
from tests.budget_data import assert_ledger_sound, validated
from tests.credits_data import credit_type

D = Decimal

amounts = st.integers(1, 200_000).map(lambda c: D(c) / 100)
person = st.sampled_from([0, 1])
# Who is paid in credit, and at which of the two venues offering it: person (who % 2), venue (who // 2).
person_and_venue = st.sampled_from([0, 1, 2, 3])
venue_index = st.sampled_from([0, 1])
# A settlement asks this percentage of what is still to settle at the venue: beyond 100, more than that.
share = st.integers(1, 120).map(D)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("fund"), amounts, st.just(0)),
        st.tuples(st.just("receive"), amounts, st.just(0)),
        st.tuples(st.just("validate"), amounts, person),
        st.tuples(st.just("pay_euros"), st.just(D(0)), person),
        st.tuples(st.just("pay_credit"), st.just(D(0)), person_and_venue),
        st.tuples(st.just("settle"), share, venue_index),
        st.tuples(st.just("close_pro_rata"), st.just(D(0)), st.just(0)),
    ),
    max_size=16,
)


@pytest.fixture
def setting(network, venue, other_venue, member, other_member):
    data.project(network, venue=venue)
    conversions = [
        CreditConversion.objects.create(
            network=network, credit_type=credit_type(place), euros_per_credit=D(rate)
        )
        for place, rate in ((other_venue, "15"), (venue, "10"))
    ]
    return conversions, [member, other_member]


def total(rows) -> D:
    return rows.aggregate(t=Sum("amount"))["t"] or D(0)


def check(budget) -> None:
    figures = assert_ledger_sound(budget)
    assert LedgerEntry.objects.filter(budget=budget).aggregate(t=Sum("amount"))["t"] in (None, 0)
    for posting in LedgerTransaction.objects.filter(budget=budget).prefetch_related("entries"):
        assert sum(e.amount for e in posting.entries.all()) == 0
    assert figures.committed - figures.granted - figures.remaining == 0
    assert figures.cash >= 0
    assert figures.owed == figures.validated - figures.paid_euros - figures.credit_issued - figures.reduced
    assert figures.owed == sum(selectors.owed_by_person(budget).values(), D(0))
    assert figures.owed >= 0
    # What people were paid, and what venues were paid for the credit, each from its own records.
    payouts = Payout.objects.filter(budget=budget)
    assert figures.paid_euros == total(payouts.filter(method=PayoutMethod.EUROS))
    assert figures.credit_issued == total(payouts.filter(method=PayoutMethod.CREDIT))
    assert figures.credit_settled == total(CreditSettlement.objects.filter(budget=budget))
    assert figures.credit_to_settle == figures.credit_issued - figures.credit_settled >= 0
    assert figures.cash == figures.received - figures.paid_euros - figures.credit_settled
    venues = selectors.credit_by_venue(budget)
    assert sum((v.issued for v in venues), D(0)) == figures.credit_issued
    assert sum((v.settled for v in venues), D(0)) == figures.credit_settled
    assert all(v.to_settle >= 0 for v in venues)


def run(budget, index: int, step: tuple, conversions, people) -> None:
    """One step of a plan; a step the services refuse must write nothing."""
    kind, amount, who = step
    budget.refresh_from_db()
    closed = budget.status == BudgetStatus.CLOSED
    written = LedgerTransaction.objects.count(), CreditSettlement.objects.count()
    try:
        if kind == "fund" and not closed:
            add_funding_source(
                budget=budget,
                name=f"S{index}",
                kind="grant",
                amount=amount,
                committed_on=date(2026, 1, 1),
            )
        elif kind == "receive":
            source = FundingSource.objects.filter(budget=budget, amount__gt=0).order_by("pk").last()
            if source is not None:
                record_receipt(source=source, amount=amount, received_on=date(2026, 2, 1))
        elif kind == "validate" and not closed:
            validated(budget, people[who], amount)
        elif kind == "pay_euros":
            pay_in_euros(
                budget=budget,
                person=people[who],
                invoice_reference=f"F{index}",
                paid_on=date(2026, 3, 1),
            )
        elif kind == "pay_credit":
            pay_in_credit(budget=budget, person=people[who % 2], conversion=conversions[who // 2])
        elif kind == "settle":
            venue = conversions[who].credit_type.venue
            settle_credit(
                budget=budget,
                venue=venue,
                amount=cents(selectors.credit_to_settle(budget, venue.pk) * amount / 100),
                reference=f"V{index}",
                settled_on=date(2026, 3, 1),
            )
        elif kind == "close_pro_rata":
            close_budget(budget=budget, method=Closing.PRO_RATA)
    except (NotEnoughCash, NothingToPay, AmountBelowOneCredit, BeyondCreditToSettle):
        pass  # a refusal the rules call for: below, it must have written nothing
    except ValidationError as refused:
        # A receipt beyond the commitment, a pro-rata closing after the envelope was paid out, or nothing
        # left to settle at a venue.
        assert refused.code in {"receipt_exceeds_commitment", "pro_rata_impossible", "invalid_amount"}
    else:
        return
    assert (LedgerTransaction.objects.count(), CreditSettlement.objects.count()) == written


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=steps)
def test_any_sequence_of_money_movements_keeps_the_ledger_balanced_and_the_figures_consistent(
    network, setting, plan
):
    conversions, people = setting
    with transaction.atomic():
        budget = data.budget(network, "propriete")
        for index, step in enumerate(plan):
            run(budget, index, step, conversions, people)
            budget.refresh_from_db()
            check(budget)
        transaction.set_rollback(True)


# A funded budget paying people in euros and in credit and settling that credit, as it does most of its
# life: it starts with cash received, both people owed and one of them paid in credit, since the sequences
# above seldom hold both cash and credit to settle. Settlements and credit payouts come up more often than
# the other steps.
some_cents = st.integers(1, 50_000).map(lambda c: D(c) / 100)
enough_for_credit = st.integers(500, 50_000).map(lambda c: D(c) / 100)
settle = st.tuples(st.just("settle"), share, venue_index)
pay_credit = st.tuples(st.just("pay_credit"), st.just(D(0)), person_and_venue)
paying_steps = st.lists(
    st.one_of(
        settle,
        pay_credit,
        settle,
        st.tuples(st.just("receive"), some_cents, st.just(0)),
        st.tuples(st.just("validate"), some_cents, person),
        st.tuples(st.just("pay_euros"), st.just(D(0)), person),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    received=amounts,
    owed=st.tuples(enough_for_credit, enough_for_credit),
    credit_at=venue_index,
    plan=paying_steps,
)
def test_settling_credit_never_spends_cash_that_is_not_there_nor_pays_a_venue_more_than_its_credit(
    network, setting, received, owed, credit_at, plan
):
    conversions, people = setting
    with transaction.atomic():
        budget = data.budget(network, "propriete")
        source = add_funding_source(
            budget=budget, name="Fabrique", kind="grant", amount=D(5000), committed_on=date(2026, 1, 1)
        )
        record_receipt(source=source, amount=received, received_on=date(2026, 2, 1))
        for who, amount in enumerate(owed):
            validated(budget, people[who], amount)
        pay_in_credit(budget=budget, person=people[0], conversion=conversions[credit_at])
        for index, step in enumerate(plan):
            run(budget, index, step, conversions, people)
            check(budget)
        transaction.set_rollback(True)
