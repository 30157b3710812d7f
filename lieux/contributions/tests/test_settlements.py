"""Settling network credit: the budget pays the venue that honours the credit it issued, from cash it has,
never more than the credit issued there, once per invoice of the venue."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from lieux.contributions.errors_budgets import BeyondCreditToSettle, NotEnoughCash, NotTreasurer
from lieux.contributions.models import (
    Account,
    BudgetStatus,
    CreditConversion,
    CreditSettlement,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from lieux.contributions.rules import ledger as rules
from lieux.contributions.selectors import budgets as selectors
from lieux.contributions.services.payouts import pay_in_credit
from lieux.contributions.services.settlements import settle_credit
from lieux.core.errors import Conflict, ValidationError
from lieux.core.models import AuditEvent
from tests import contributions_data as data
from tests.budget_data import assert_ledger_sound, fund, validated
from tests.credits_data import credit_type

D = Decimal
SETTLED_ON = date(2026, 3, 2)


@pytest.fixture
def budget(network, venue):
    data.project(network, venue=venue)
    return data.budget(network, venue=venue)


def offer(network, place, rate: str) -> CreditConversion:
    days = credit_type(place, code="coworking", name="Coworking days")
    return CreditConversion.objects.create(network=network, credit_type=days, euros_per_credit=D(rate))


@pytest.fixture
def baraka_credit(budget, network, other_venue, member):
    """Camille took 100 € owed as 6.5 coworking days at Baraka (97.50 €); the budget has 500 € of cash."""
    fund(budget, "1000", received="500")
    validated(budget, member, "100")
    pay_in_credit(budget=budget, person=member, conversion=offer(network, other_venue, "15"), actor=member)
    return other_venue


def settlements_written() -> tuple[int, int, int]:
    return (
        CreditSettlement.objects.count(),
        LedgerTransaction.objects.filter(kind=TransactionKind.CREDIT_SETTLEMENT).count(),
        AuditEvent.objects.filter(action="contributions.credit.settled").count(),
    )


def settle(budget, venue, amount="60", *, reference="BAR-2026-14", settled_on=SETTLED_ON, actor=None):
    return settle_credit(
        budget=budget, venue=venue, amount=amount, reference=reference, settled_on=settled_on, actor=actor
    )


def test_the_budget_pays_the_venue_from_its_cash_and_people_paid_stay_what_they_were(
    budget, baraka_credit, manager
):
    settlement = settle(budget, baraka_credit, "60", actor=manager)
    assert (settlement.venue, settlement.amount, settlement.reference, settlement.created_by) == (
        baraka_credit,
        D(60),
        "BAR-2026-14",
        manager,
    )
    legs = {
        (e.account, e.amount, e.venue_id)
        for e in LedgerEntry.objects.filter(transaction__kind=TransactionKind.CREDIT_SETTLEMENT)
    }
    assert legs == {(Account.CREDIT_ISSUED, D(60), baraka_credit.pk), (Account.CASH, D(-60), None)}
    figures = assert_ledger_sound(budget)
    assert (figures.credit_issued, figures.credit_settled, figures.credit_to_settle) == (
        D("97.50"),
        D(60),
        D("37.50"),
    )
    assert (figures.paid_euros, figures.cash, figures.owed) == (0, D(440), D("2.50"))
    event = AuditEvent.objects.get(action="contributions.credit.settled")
    assert event.object_id == str(settlement.pk) and event.actor == manager
    assert (event.data["venue"], event.data["amount"], event.data["reference"]) == (
        baraka_credit.pk,
        "60.00",
        "BAR-2026-14",
    )


def test_the_rest_is_settled_later_and_then_nothing_more(budget, baraka_credit, manager):
    settle(budget, baraka_credit, "60", actor=manager)
    settle(budget, baraka_credit, "37.50", reference="BAR-2026-15", actor=manager)
    assert selectors.credit_to_settle(budget, baraka_credit.pk) == 0
    with pytest.raises(BeyondCreditToSettle) as refused:
        settle(budget, baraka_credit, "0.01", reference="BAR-2026-16", actor=manager)
    assert refused.value.extra["to_settle"] == "0.00"
    assert selectors.budget_figures(budget).credit_to_settle == 0


@pytest.mark.parametrize(
    ("change", "error", "code"),
    [
        ({"amount": "0"}, ValidationError, "invalid_amount"),
        ({"amount": "-5"}, ValidationError, "invalid_amount"),
        ({"amount": "12.345"}, ValidationError, "invalid_amount"),
        ({"amount": "douze"}, ValidationError, "invalid_amount"),
        ({"amount": "97.51"}, BeyondCreditToSettle, "beyond_credit_to_settle"),
        ({"reference": "  "}, ValidationError, "invoice_reference_required"),
        ({"reference": "F" * 61}, ValidationError, "invoice_reference_required"),
        ({"settled_on": "2026-03-02"}, ValidationError, "invalid_date"),
        ({"settled_on": "tomorrow"}, ValidationError, "date_in_future"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(budget, baraka_credit, manager, change, error, code):
    if change.get("settled_on") == "tomorrow":
        change = {"settled_on": selectors.budget_today(budget) + timedelta(days=1)}
    with pytest.raises(error) as refused:
        settle(budget, baraka_credit, **{"actor": manager, **change})
    assert refused.value.code == code
    assert settlements_written() == (0, 0, 0)
    assert selectors.budget_figures(budget).credit_to_settle == D("97.50")


def test_only_the_budget_s_managers_settle(budget, baraka_credit, member, other_manager):
    for someone in (member, other_manager):  # a contributor; a manager of another venue
        with pytest.raises(NotTreasurer):
            settle(budget, baraka_credit, actor=someone)
    assert settlements_written() == (0, 0, 0)


def test_nobody_is_paid_before_the_money_is_there(budget, network, other_venue, member, manager):
    fund(budget, "1000", received="50")
    validated(budget, member, "100")
    pay_in_credit(budget=budget, person=member, conversion=offer(network, other_venue, "15"), actor=member)
    with pytest.raises(NotEnoughCash) as refused:
        settle(budget, other_venue, "60", actor=manager)
    assert refused.value.code == "cash_not_received"
    assert (refused.value.extra["needed"], refused.value.extra["available"]) == ("60.00", "50.00")
    assert settlements_written() == (0, 0, 0)
    settle(budget, other_venue, "50", actor=manager)  # what is there can be paid
    assert selectors.cash_available(budget) == 0


def test_a_retried_settlement_posts_nothing_twice_and_the_same_invoice_cannot_say_another_amount(
    budget, baraka_credit, manager
):
    first = settle(budget, baraka_credit, "60", actor=manager)
    again = settle(budget, baraka_credit, "60.00", reference=" BAR-2026-14 ", actor=manager)
    assert again == first and settlements_written() == (1, 1, 1)
    with pytest.raises(Conflict) as refused:
        settle(budget, baraka_credit, "30", actor=manager)
    assert refused.value.code == "invoice_already_settled"
    assert settlements_written() == (1, 1, 1)
    assert selectors.budget_figures(budget).credit_settled == D(60)


def test_each_venue_is_paid_for_its_own_credit(
    budget, network, venue, other_venue, member, other_member, manager
):
    fund(budget, "1000", received="500")
    validated(budget, member, "100")
    validated(budget, other_member, "40")
    pay_in_credit(budget=budget, person=member, conversion=offer(network, other_venue, "15"), actor=member)
    pay_in_credit(
        budget=budget, person=other_member, conversion=offer(network, venue, "10"), actor=other_member
    )
    with pytest.raises(BeyondCreditToSettle):  # 40 € issued at La Coroutine, not 97.50
        settle(budget, venue, "97.50", actor=manager)
    settle(budget, venue, "40", reference="LC-7", actor=manager)
    settle(budget, other_venue, "20", reference="LC-7", actor=manager)  # each venue numbers its own
    rows = [(v.venue_name, v.issued, v.settled, v.to_settle) for v in selectors.credit_by_venue(budget)]
    assert rows == [
        ("Baraka", D("97.50"), D(20), D("77.50")),
        ("La Coroutine", D(40), D(40), D(0)),
    ]
    figures = assert_ledger_sound(budget)
    assert (figures.credit_issued, figures.credit_settled, figures.cash) == (D("137.50"), D(60), D(440))


def test_a_closed_budget_still_pays_the_credit_it_issued(budget, baraka_credit, manager):
    budget.status = BudgetStatus.CLOSED
    budget.save(update_fields=["status"])
    settle(budget, baraka_credit, "97.50", actor=manager)
    assert selectors.budget_figures(budget).credit_to_settle == 0


def test_the_figures_tell_credit_settled_from_euros_paid():
    figures = rules.figures(
        balances={"cash": D(340), "credit_issued": D("-37.50"), "owed": D(-200), "receivable": D(400)},
        committed=D(1000),
        received=D(600),
        settled=D(60),
    )
    assert (figures.paid_euros, figures.credit_issued, figures.credit_settled, figures.credit_to_settle) == (
        D(200),
        D("97.50"),
        D(60),
        D("37.50"),
    )
    # 10 € settled to a venue the budget issued no credit at.
    overpaid = {"cash": D(0), "credit_issued": D(10), "receivable": D(-10)}
    settled = rules.figures(balances=overpaid, committed=D(0), received=D(10), settled=D(10))
    assert rules.inconsistencies(overpaid, settled) == [
        "more credit settled than issued, or a negative settlement"
    ]
