"""Whatever happens to a budget — funding, receipts, validations, payouts in euros and in credit, a pro-rata
closing — every transaction balances, the ledger sums to zero, the cash never goes below zero and the
figures agree: committed − granted − envelope left = 0, owed = validated − paid − reduced."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lieux.contributions.errors_budgets import AmountBelowOneCredit, NotEnoughCash, NothingToPay
from lieux.contributions.models import (
    BudgetStatus,
    Closing,
    CreditConversion,
    FundingSource,
    LedgerEntry,
    LedgerTransaction,
)
from lieux.contributions.selectors import budgets as selectors
from lieux.contributions.services.closing import close_budget
from lieux.contributions.services.funding import add_funding_source, record_receipt
from lieux.contributions.services.payouts import pay_in_credit, pay_in_euros
from lieux.core.errors import ValidationError
from tests import contributions_data as data
from tests.budget_data import assert_ledger_sound, validated
from tests.credits_data import credit_type

D = Decimal

cents = st.integers(1, 200_000).map(lambda c: D(c) / 100)
person = st.sampled_from([0, 1])
steps = st.lists(
    st.one_of(
        st.tuples(st.just("fund"), cents, st.just(0)),
        st.tuples(st.just("receive"), cents, st.just(0)),
        st.tuples(st.just("validate"), cents, person),
        st.tuples(st.just("pay_euros"), st.just(D(0)), person),
        st.tuples(st.just("pay_credit"), st.just(D(0)), person),
        st.tuples(st.just("close_pro_rata"), st.just(D(0)), st.just(0)),
    ),
    max_size=14,
)


@pytest.fixture
def setting(network, venue, other_venue, member, other_member):
    data.project(network, venue=venue)
    conversion = CreditConversion.objects.create(
        network=network, credit_type=credit_type(other_venue), euros_per_credit=D("15")
    )
    return conversion, [member, other_member]


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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=steps)
def test_any_sequence_of_money_movements_keeps_the_ledger_balanced_and_the_figures_consistent(
    network, setting, plan
):
    conversion, people = setting
    with transaction.atomic():
        budget = data.budget(network, "propriete")
        for index, (kind, amount, who) in enumerate(plan):
            budget.refresh_from_db()
            closed = budget.status == BudgetStatus.CLOSED
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
                    pay_in_credit(budget=budget, person=people[who], conversion=conversion)
                elif kind == "close_pro_rata":
                    close_budget(budget=budget, method=Closing.PRO_RATA)
            except (NotEnoughCash, NothingToPay, AmountBelowOneCredit):
                pass  # refused as it should be: nothing was written
            except ValidationError as refused:
                # A receipt beyond the commitment, or a pro-rata closing after the envelope was paid out.
                assert refused.code in {"receipt_exceeds_commitment", "pro_rata_impossible"}
            budget.refresh_from_db()
            check(budget)
        transaction.set_rollback(True)
