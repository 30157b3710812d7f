"""Nobody is paid before the money is there, even when treasurers pay at the same instant: ten people are
owed 100 € each by a budget holding 500 € of cash, and ten payouts in euros start together.

Each payout is for another person, so no contribution row is shared between them: only the budget's row
lock, held while the cash is read and the payout written, keeps them from all reading the same 500 €. The
variant without that lock shows the test would catch its loss.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum

from lieux.contributions.errors_budgets import NotEnoughCash
from lieux.contributions.models import Budget, Payout
from lieux.contributions.selectors import budgets as selectors
from lieux.contributions.services import payouts as payout_services
from lieux.contributions.services.funding import add_funding_source, record_receipt
from tests import contributions_data as data
from tests.budget_data import cash_left, remove_budget_lock, validated
from tests.concurrency.race import all_at_once
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = 10
OWED_EACH = Decimal(100)
CASH = Decimal(500)


@pytest.fixture
def owed(network, venue):
    data.project(network, venue=venue)
    budget = data.budget(network, venue=venue)
    source = add_funding_source(
        budget=budget, name="Fabrique", kind="grant", amount="2000", committed_on=date(2026, 1, 5)
    )
    record_receipt(source=source, amount=CASH, received_on=date(2026, 1, 20), reference="VIR-1")
    people = [UserFactory(email=f"contributrice{i}@example.org") for i in range(PEOPLE)]
    for person in people:
        validated(budget, person, OWED_EACH)
    return budget, people


def pay_everyone_at_once(budget: Budget, people) -> tuple[int, int, list[str]]:
    def pay(index: int, person):
        return lambda: payout_services.pay_in_euros(
            budget=budget, person=person, invoice_reference=f"F-{index}", paid_on=date(2026, 3, 1)
        )

    return all_at_once([pay(index, person) for index, person in enumerate(people)], refused=NotEnoughCash)


def test_simultaneous_payouts_never_pay_out_more_cash_than_was_received(owed):
    budget, people = owed
    paid, refused, errors = pay_everyone_at_once(budget, people)
    assert errors == []
    assert (paid, refused) == (5, 5)
    assert cash_left(budget) == 0
    assert Payout.objects.aggregate(t=Sum("amount"))["t"] == CASH
    assert selectors.budget_figures(budget).owed == PEOPLE * OWED_EACH - CASH


@pytest.fixture
def budget_lock_removed(postgres, monkeypatch):
    remove_budget_lock(monkeypatch, payout_services)


def test_without_the_budget_lock_the_same_race_pays_out_cash_that_is_not_there(budget_lock_removed, owed):
    """Shows that test_simultaneous_payouts_never_pay_out_more_cash_than_was_received would catch a missing
    lock."""
    budget, people = owed
    paid, _refused, errors = pay_everyone_at_once(budget, people)
    assert errors == []
    assert paid > 5
    assert cash_left(budget) < 0
