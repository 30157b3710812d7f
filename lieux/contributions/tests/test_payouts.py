"""Payouts: euros only once the cash is there, credit at the contributor's choice, each posted once."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lieux.contributions.errors_budgets import (
    AmountBelowOneCredit,
    NotEnoughCash,
    NothingToPay,
    NotTreasurer,
)
from lieux.contributions.models import (
    Account,
    ContributionStatus,
    ContributorProfile,
    CreditConversion,
    LedgerEntry,
    Payout,
    PayoutMethod,
    TransactionKind,
)
from lieux.contributions.selectors import budgets as selectors
from lieux.contributions.services.payouts import credit_quantity, credit_value, pay_in_credit, pay_in_euros
from lieux.core.errors import Conflict, Forbidden, ValidationError
from lieux.core.models import AuditEvent
from lieux.memberships.models import CreditLot
from lieux.memberships.rules.credits import CREDIT_STEP, add_months
from lieux.memberships.services.credits import local_today
from tests import contributions_data as data
from tests.budget_data import assert_ledger_sound, fund, request, validated
from tests.credits_data import credit_type
from tests.factories import NetworkFactory, VenueFactory

D = Decimal
PAID_ON = date(2026, 3, 2)


@pytest.fixture
def budget(network, venue):
    data.project(network, venue=venue)
    return data.budget(network, venue=venue)


@pytest.fixture
def coworking_days(network, other_venue):
    """One coworking day at Baraka for 15 €: network credit, usable at another venue than the budget's."""
    days = credit_type(other_venue, code="coworking", name="Coworking days")
    return CreditConversion.objects.create(
        network=network, credit_type=days, euros_per_credit=D("15"), validity_months=12
    )


def payouts_written() -> tuple[int, int]:
    return Payout.objects.count(), LedgerEntry.objects.filter(account=Account.CASH, amount__lt=0).count()


# Euros ---------------------------------------------------------------------------------------------------


def test_paying_everything_owed_marks_the_requests_paid_and_takes_the_cash(budget, member, manager):
    fund(budget, "1000", received="500")
    first = validated(budget, member, "120")
    second = validated(budget, member, "80")
    payout = pay_in_euros(
        budget=budget, person=member, invoice_reference="FAC-2026-07", paid_on=PAID_ON, actor=manager
    )
    assert (payout.method, payout.amount, payout.paid_to, payout.created_by) == (
        PayoutMethod.EUROS,
        D(200),
        "Camille Test",
        manager,
    )
    for request_ in (first, second):
        request_.refresh_from_db()
        assert (request_.status, request_.payout) == (ContributionStatus.PAID, payout)
    figures = assert_ledger_sound(budget)
    assert (figures.paid_euros, figures.cash, figures.owed) == (D(200), D(300), 0)
    assert AuditEvent.objects.get(action="contributions.payout.paid").data["contributions"] == [
        first.pk,
        second.pk,
    ]
    assert AuditEvent.objects.filter(action="contributions.contribution.paid").count() == 2


def test_nobody_is_paid_before_the_money_is_there(budget, member, manager):
    fund(budget, "1000", received="150")
    made = validated(budget, member, "200")
    with pytest.raises(NotEnoughCash) as refused:
        pay_in_euros(budget=budget, person=member, invoice_reference="F-1", paid_on=PAID_ON, actor=manager)
    assert refused.value.code == "cash_not_received"
    assert (refused.value.extra["needed"], refused.value.extra["available"]) == ("200.00", "150.00")
    assert payouts_written() == (0, 0)
    made.refresh_from_db()
    assert made.status == ContributionStatus.VALIDATED and made.payout is None


def test_the_requests_named_are_paid_and_the_others_stay_owed(budget, member, manager):
    fund(budget, "1000", received="1000")
    paid = validated(budget, member, "120")
    kept = validated(budget, member, "80")
    payout = pay_in_euros(
        budget=budget,
        person=member,
        invoice_reference="F-1",
        paid_on=PAID_ON,
        contributions=[paid],
        actor=manager,
    )
    assert payout.amount == D(120)
    kept.refresh_from_db()
    assert kept.status == ContributionStatus.VALIDATED
    assert selectors.person_owed(budget, member.pk) == D(80)


def test_only_validated_unpaid_requests_of_that_person_can_be_named(budget, member, other_member, manager):
    fund(budget, "1000", received="1000")
    theirs = validated(budget, other_member, "50")
    pending = request(budget, member, "30")
    for named in ([theirs], [pending]):
        with pytest.raises(ValidationError) as refused:
            pay_in_euros(
                budget=budget,
                person=member,
                invoice_reference="F",
                paid_on=PAID_ON,
                contributions=named,
                actor=manager,
            )
        assert refused.value.code == "not_payable"
    assert payouts_written() == (0, 0)


def test_paying_the_same_invoice_again_returns_the_first_payout(budget, member, manager):
    fund(budget, "1000", received="1000")
    made = validated(budget, member, "120")
    first = pay_in_euros(
        budget=budget, person=member, invoice_reference="F-9", paid_on=PAID_ON, actor=manager
    )
    again = pay_in_euros(
        budget=budget, person=member, invoice_reference="F-9", paid_on=PAID_ON, actor=manager
    )
    assert first == again and payouts_written() == (1, 1)
    other = validated(budget, member, "10")
    with pytest.raises(Conflict) as refused:
        pay_in_euros(
            budget=budget,
            person=member,
            invoice_reference="F-9",
            paid_on=PAID_ON,
            contributions=[other],
            actor=manager,
        )
    assert refused.value.code == "invoice_already_paid"
    assert made.pk in first.contributions.values_list("pk", flat=True)


def test_euros_go_to_the_structure_the_person_bills_through(budget, member, manager):
    fund(budget, "1000", received="1000")
    validated(budget, member, "100")
    with pytest.raises(ValidationError) as refused:
        pay_in_euros(
            budget=budget,
            person=member,
            invoice_reference="F",
            paid_on=PAID_ON,
            to_structure=True,
            actor=manager,
        )
    assert refused.value.code == "no_structure"
    ContributorProfile.objects.create(person=member, structure_name="CAE Grands Ensemble")
    payout = pay_in_euros(
        budget=budget,
        person=member,
        invoice_reference="GE-12",
        paid_on=PAID_ON,
        to_structure=True,
        actor=manager,
    )
    assert payout.paid_to == "CAE Grands Ensemble"


def test_a_member_cannot_record_a_payment_and_an_empty_invoice_is_refused(budget, member, manager):
    fund(budget, "1000", received="1000")
    validated(budget, member, "100")
    with pytest.raises(NotTreasurer):
        pay_in_euros(budget=budget, person=member, invoice_reference="F", paid_on=PAID_ON, actor=member)
    with pytest.raises(ValidationError):
        pay_in_euros(budget=budget, person=member, invoice_reference=" ", paid_on=PAID_ON, actor=manager)
    assert payouts_written() == (0, 0)


def test_nothing_owed_is_nothing_to_pay(budget, member, manager):
    fund(budget, "1000", received="1000")
    with pytest.raises(NothingToPay):
        pay_in_euros(budget=budget, person=member, invoice_reference="F", paid_on=PAID_ON, actor=manager)


# Credit --------------------------------------------------------------------------------------------------


def test_credit_is_granted_at_the_chosen_venue_rounded_down_and_the_rest_stays_owed(
    budget, member, other_venue, coworking_days
):
    fund(budget, "1000")  # no cash received: credit moves none
    made = validated(budget, member, "100")
    payout = pay_in_credit(budget=budget, person=member, conversion=coworking_days, actor=member)
    # 100 € at 15 € a day is 6.67 days, rounded down to the quarter: 6.5 days, worth 97.50 €.
    assert (payout.method, payout.credit_quantity, payout.amount) == (
        PayoutMethod.CREDIT,
        D("6.5"),
        D("97.50"),
    )
    lot = CreditLot.objects.get()
    today = local_today(other_venue)
    assert (lot.person, lot.venue, lot.granted, lot.source_key) == (member, other_venue, D("6.5"), payout.key)
    assert lot.expires_on == add_months(today, 12) and payout.credit_lot == lot
    made.refresh_from_db()
    assert made.status == ContributionStatus.PAID
    entry = LedgerEntry.objects.get(
        transaction__kind=TransactionKind.PAYOUT_CREDIT, account=Account.CREDIT_ISSUED
    )
    assert (entry.amount, entry.venue) == (D("-97.50"), other_venue)
    figures = assert_ledger_sound(budget)
    assert (figures.credit_issued, figures.owed, figures.cash) == (D("97.50"), D("2.50"), 0)


def test_the_remainder_of_a_conversion_is_part_of_the_next_payout_of_everything_owed(
    budget, member, manager, coworking_days
):
    fund(budget, "1000", received="1000")
    validated(budget, member, "100")
    pay_in_credit(budget=budget, person=member, conversion=coworking_days, actor=member)
    later = validated(budget, member, "40")
    payout = pay_in_euros(
        budget=budget, person=member, invoice_reference="F-2", paid_on=PAID_ON, actor=manager
    )
    assert payout.amount == D("42.50") and list(payout.contributions.all()) == [later]
    assert selectors.person_owed(budget, member.pk) == 0
    assert_ledger_sound(budget)


def test_only_the_contributor_chooses_credit(budget, member, manager, coworking_days):
    fund(budget, "1000")
    validated(budget, member, "100")
    with pytest.raises(Forbidden) as refused:
        pay_in_credit(budget=budget, person=member, conversion=coworking_days, actor=manager)
    assert refused.value.code == "contributor_chooses_credit"
    assert not Payout.objects.exists() and not CreditLot.objects.exists()


def test_a_conversion_of_another_network_or_withdrawn_is_refused(budget, member, coworking_days):
    fund(budget, "1000")
    validated(budget, member, "100")
    elsewhere = VenueFactory(network=NetworkFactory(slug="ailleurs"), slug="loin")
    foreign = CreditConversion.objects.create(
        network=elsewhere.network, credit_type=credit_type(elsewhere), euros_per_credit=D("10")
    )
    CreditConversion.objects.filter(pk=coworking_days.pk).update(is_active=False)
    coworking_days.refresh_from_db()
    for conversion in (foreign, coworking_days):
        with pytest.raises(ValidationError) as refused:
            pay_in_credit(budget=budget, person=member, conversion=conversion, actor=member)
        assert refused.value.code == "conversion_unavailable"


def test_less_than_a_quarter_of_a_credit_cannot_be_converted(budget, member, coworking_days):
    fund(budget, "1000")
    validated(budget, member, "3.74")
    with pytest.raises(AmountBelowOneCredit) as refused:
        pay_in_credit(budget=budget, person=member, conversion=coworking_days, actor=member)
    assert refused.value.extra["minimum"] == "3.75"
    assert not Payout.objects.exists()


def test_a_retried_credit_payout_grants_nothing_twice(budget, member, coworking_days):
    fund(budget, "1000")
    made = validated(budget, member, "60")
    first = pay_in_credit(
        budget=budget,
        person=member,
        conversion=coworking_days,
        contributions=[made],
        request_key="r1",
        actor=member,
    )
    again = pay_in_credit(
        budget=budget,
        person=member,
        conversion=coworking_days,
        contributions=[made],
        request_key="r1",
        actor=member,
    )
    assert first == again and CreditLot.objects.get().granted == 4
    assert_ledger_sound(budget)


@given(
    amount=st.integers(1, 10_000_000).map(lambda c: D(c) / 100),
    rate=st.integers(1, 100_000).map(lambda c: D(c) / 100),
)
def test_a_conversion_never_gives_more_than_owed_nor_keeps_a_whole_step_back(amount, rate):
    quantity = credit_quantity(amount, rate)
    value = credit_value(quantity, rate)
    assert quantity % CREDIT_STEP == 0 and quantity >= 0
    assert value <= amount
    assert amount - quantity * rate < rate * CREDIT_STEP
