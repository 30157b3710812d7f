"""Nobody is paid before the money is there, venues included: a budget holding 500 € of cash owes Baraka
1,000 € for the network credit it issued there, and ten managers each record a 100 € invoice of Baraka at
the same instant.

The settlements share no row but the budget's: only its row lock, held while the cash is read and the
settlement written, keeps them from all reading the same 500 €. The variant without that lock shows the
test would catch its loss.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db.models import Sum

from lieux.contributions.errors_budgets import NotEnoughCash
from lieux.contributions.models import Budget, CreditConversion, CreditSettlement
from lieux.contributions.selectors import budgets as selectors
from lieux.contributions.services import settlements as settlement_services
from lieux.contributions.services.funding import add_funding_source, record_receipt
from lieux.contributions.services.payouts import pay_in_credit
from tests import contributions_data as data
from tests.budget_data import cash_left, remove_budget_lock, validated
from tests.concurrency.race import all_at_once
from tests.credits_data import credit_type
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

INVOICES = 10
EACH = Decimal(100)
CASH = Decimal(500)


@pytest.fixture
def credit_owed(network, venue, other_venue):
    """Ten people took 100 € each as 4 coworking days at Baraka (25 € a day)."""
    data.project(network, venue=venue)
    budget = data.budget(network, venue=venue)
    source = add_funding_source(
        budget=budget, name="Fabrique", kind="grant", amount="2000", committed_on=date(2026, 1, 5)
    )
    record_receipt(source=source, amount=CASH, received_on=date(2026, 1, 20), reference="VIR-1")
    days = CreditConversion.objects.create(
        network=network, credit_type=credit_type(other_venue, code="coworking"), euros_per_credit=25
    )
    for index in range(INVOICES):
        person = UserFactory(email=f"contributrice{index}@example.org")
        validated(budget, person, EACH)
        pay_in_credit(budget=budget, person=person, conversion=days, actor=person)
    assert selectors.credit_to_settle(budget, other_venue.pk) == INVOICES * EACH
    return budget, other_venue


def settle_every_invoice_at_once(budget: Budget, venue) -> tuple[int, int, list[str]]:
    def settle(index: int):
        return lambda: settlement_services.settle_credit(
            budget=budget, venue=venue, amount=EACH, reference=f"BAR-{index}", settled_on=date(2026, 3, 1)
        )

    return all_at_once([settle(index) for index in range(INVOICES)], refused=NotEnoughCash)


def test_simultaneous_settlements_never_pay_out_more_cash_than_was_received(credit_owed):
    budget, venue = credit_owed
    settled, refused, errors = settle_every_invoice_at_once(budget, venue)
    assert errors == []
    assert (settled, refused) == (5, 5)
    assert cash_left(budget) == 0
    assert CreditSettlement.objects.aggregate(t=Sum("amount"))["t"] == CASH
    figures = selectors.budget_figures(budget)
    assert (figures.credit_settled, figures.credit_to_settle, figures.paid_euros) == (CASH, CASH, 0)


@pytest.fixture
def budget_lock_removed(postgres, monkeypatch):
    remove_budget_lock(monkeypatch, settlement_services)


def test_without_the_budget_lock_the_same_race_pays_out_cash_that_is_not_there(
    budget_lock_removed, credit_owed
):
    """Shows that test_simultaneous_settlements_never_pay_out_more_cash_than_was_received would catch a
    missing lock."""
    budget, venue = credit_owed
    settled, _refused, errors = settle_every_invoice_at_once(budget, venue)
    assert errors == []
    assert settled > 5
    assert cash_left(budget) < 0
