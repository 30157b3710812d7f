"""Budgets: creation and rules, funding sources and receipts, the figures and the burn-down."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lieux.contributions.errors_budgets import BudgetClosed, NotTreasurer, ReceiptExceedsCommitment
from lieux.contributions.models import (
    Budget,
    BudgetStatus,
    ContributionStatus,
    FundingReceipt,
    FundingSource,
    LedgerTransaction,
    TransactionKind,
    Validators,
)
from lieux.contributions.rules import ledger as rules
from lieux.contributions.selectors import budgets as selectors
from lieux.contributions.services.budgets import (
    create_budget,
    ensure_budget_open,
    refresh_budget_status,
    update_budget,
)
from lieux.contributions.services.funding import add_funding_source, record_receipt
from lieux.contributions.services.ledger_days import rebuild_ledger_days
from lieux.contributions.services.payouts import pay_in_euros
from lieux.core.errors import Conflict, ValidationError
from lieux.core.models import AuditEvent
from tests import contributions_data as data
from tests.budget_data import assert_ledger_sound, fund, request, validated
from tests.factories import UserFactory

D = Decimal


@pytest.fixture
def project(network, venue):
    return data.project(network, venue=venue)


@pytest.fixture
def budget(network, venue, project):
    return data.budget(network, venue=venue)


def at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, tzinfo=UTC)


# Creating and changing a budget ------------------------------------------------------------------------


def test_a_manager_creates_a_budget_with_its_rules_and_an_audit_row(network, venue, manager):
    made = create_budget(
        network=network,
        venue=venue,
        slug="fabrique-2027",
        name="Fabrique 2027",
        starts_on=date(2027, 1, 1),
        ends_on=date(2027, 12, 31),
        validators=Validators.MANAGERS,
        validations_required=2,
        hourly_value="25",
        actor=manager,
    )
    assert made.status == BudgetStatus.OPEN and made.hourly_value == D("25.00")
    event = AuditEvent.objects.get(action="contributions.budget.created")
    assert event.object_id == str(made.pk) and event.actor == manager and event.venue_id == venue.pk


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"ends_on": date(2026, 1, 1), "starts_on": date(2026, 2, 1)}, "period_out_of_order"),
        ({"validations_required": 0}, "invalid_validations_required"),
        ({"validators": "anyone"}, "invalid_validators"),
        ({"overrun": "maybe"}, "invalid_overrun"),
        ({"hourly_value": "-3"}, "invalid_amount"),
        ({"slug": "pas un slug"}, "invalid_slug"),
        ({"name": "  "}, "name_required"),
    ],
)
def test_a_budget_with_bad_rules_is_refused_and_nothing_is_written(network, venue, fields, code):
    values = {
        "network": network,
        "venue": venue,
        "slug": "b",
        "name": "B",
        "starts_on": date(2026, 1, 1),
        "ends_on": date(2026, 12, 31),
    } | fields
    with pytest.raises(ValidationError) as refused:
        create_budget(**values)
    assert refused.value.code == code
    assert not Budget.objects.exists() and not AuditEvent.objects.exists()


def test_only_managers_create_budgets_and_slugs_are_unique_in_the_network(network, venue, member, budget):
    args = {"network": network, "starts_on": date(2027, 1, 1), "ends_on": date(2027, 6, 30), "name": "X"}
    with pytest.raises(NotTreasurer):
        create_budget(venue=venue, slug="autre", actor=member, **args)
    with pytest.raises(Conflict) as taken:
        create_budget(venue=venue, slug=budget.slug, **args)
    assert taken.value.code == "budget_slug_taken"


def test_a_manager_of_another_venue_cannot_touch_this_venues_budget(budget, other_manager):
    with pytest.raises(NotTreasurer):
        update_budget(budget, overrun="refuse", actor=other_manager)
    with pytest.raises(NotTreasurer):
        add_funding_source(
            budget=budget,
            name="X",
            kind="grant",
            amount="10",
            committed_on=date(2026, 1, 1),
            actor=other_manager,
        )


def test_a_network_budget_is_managed_by_the_managers_of_the_networks_venues(network, manager, other_manager):
    shared = data.budget(network, slug="reseau")
    assert selectors.may_manage_budget(manager, shared) and selectors.may_manage_budget(other_manager, shared)
    assert not selectors.may_manage_budget(UserFactory(), shared)


def test_changing_rules_is_audited_and_a_closed_budget_takes_no_change(budget, manager):
    update_budget(budget, validations_required=2, overrun="refuse", actor=manager)
    budget.refresh_from_db()
    assert (budget.validations_required, budget.overrun) == (2, "refuse")
    event = AuditEvent.objects.get(action="contributions.budget.updated")
    assert event.data["changes"]["overrun"] == ["deficit", "refuse"]
    with pytest.raises(ValidationError):
        update_budget(budget, status="closed", actor=manager)
    Budget.objects.filter(pk=budget.pk).update(status=BudgetStatus.CLOSED)
    budget.refresh_from_db()
    with pytest.raises(BudgetClosed):
        update_budget(budget, name="Autre", actor=manager)
    with pytest.raises(BudgetClosed):
        ensure_budget_open(budget)


# Funding -------------------------------------------------------------------------------------------------


def test_a_funding_source_posts_its_commitment_once_even_when_submitted_twice(budget, manager):
    args = {
        "budget": budget,
        "name": "ANCT Fabrique de Territoire",
        "kind": "grant",
        "amount": "50000",
        "committed_on": date(2026, 1, 15),
        "funder": "ANCT",
        "actor": manager,
    }
    first = add_funding_source(**args)
    again = add_funding_source(**args)
    assert first == again and FundingSource.objects.count() == 1
    posting = LedgerTransaction.objects.get(kind=TransactionKind.FUNDING)
    assert sorted(e.amount for e in posting.entries.all()) == [D(-50000), D(50000)]
    with pytest.raises(Conflict) as renamed:
        add_funding_source(**(args | {"amount": "60000"}))
    assert renamed.value.code == "source_name_taken"
    figures = assert_ledger_sound(budget)
    assert (figures.committed, figures.remaining, figures.received) == (D(50000), D(50000), 0)


@pytest.mark.parametrize(
    ("amount", "kind"), [("-10", "grant"), ("0", "grant"), ("12.345", "grant"), ("10", "carried_over")]
)
def test_a_source_needs_a_positive_amount_in_cents_and_an_ordinary_kind(budget, amount, kind):
    with pytest.raises(ValidationError):
        add_funding_source(budget=budget, name="X", kind=kind, amount=amount, committed_on=date(2026, 1, 1))
    assert not FundingSource.objects.exists() and not LedgerTransaction.objects.exists()


def test_a_closed_budget_takes_no_funding(budget):
    Budget.objects.filter(pk=budget.pk).update(status=BudgetStatus.CLOSED)
    with pytest.raises(BudgetClosed):
        fund(budget, "100")


def test_receipts_never_exceed_what_the_source_committed(budget, manager):
    source = fund(budget, "1000")
    record_receipt(source=source, amount="600", received_on=date(2026, 2, 1), actor=manager)
    with pytest.raises(ReceiptExceedsCommitment) as refused:
        record_receipt(source=source, amount="400.01", received_on=date(2026, 3, 1), actor=manager)
    assert refused.value.extra["left"] == "400.00"
    record_receipt(source=source, amount="400", received_on=date(2026, 3, 1), actor=manager)
    figures = assert_ledger_sound(budget)
    assert (figures.received, figures.cash, figures.to_receive) == (D(1000), D(1000), 0)


def test_a_receipt_with_a_bank_reference_is_recorded_once(budget):
    source = fund(budget, "1000")
    first = record_receipt(source=source, amount="250", received_on=date(2026, 2, 1), reference="VIR-1")
    again = record_receipt(source=source, amount="250", received_on=date(2026, 2, 1), reference="VIR-1")
    assert first == again and FundingReceipt.objects.count() == 1
    with pytest.raises(Conflict):
        record_receipt(source=source, amount="300", received_on=date(2026, 2, 1), reference="VIR-1")
    assert selectors.budget_figures(budget).received == D(250)


def test_a_late_instalment_is_received_on_a_closed_budget(budget):
    source = fund(budget, "1000")
    Budget.objects.filter(pk=budget.pk).update(status=BudgetStatus.CLOSED)
    record_receipt(source=source, amount="1000", received_on=date(2027, 2, 1))
    assert selectors.budget_figures(budget).cash == D(1000)


# Figures -------------------------------------------------------------------------------------------------


def test_the_figures_of_a_budget_in_use(budget, member, other_member):
    fund(budget, "1000", received="600")
    validated(budget, member, "300")
    validated(budget, other_member, "200")
    request(budget, member, "150")
    request(budget, member, "80", status=ContributionStatus.REFUSED)
    pay_in_euros(budget=budget, person=member, invoice_reference="F-1", paid_on=date(2026, 3, 1))
    figures = assert_ledger_sound(budget)
    assert figures == rules.Figures(
        committed=D(1000),
        received=D(600),
        validated=D(500),
        reduced=D(0),
        granted=D(500),
        paid_euros=D(300),
        credit_issued=D(0),
        credit_settled=D(0),
        credit_to_settle=D(0),
        owed=D(200),
        pending_count=1,
        pending_amount=D(150),
        remaining=D(500),
        deficit=D(0),
        cash=D(300),
        to_receive=D(400),
        forecast=D(650),
        forecast_remaining=D(350),
        state="open",
    )
    assert selectors.owed_by_person(budget) == {other_member.pk: D(200)}


def test_validations_beyond_the_envelope_put_the_budget_in_deficit_until_funding_makes_it_whole(
    budget, member
):
    fund(budget, "100")
    validated(budget, member, "130")
    refresh_budget_status(budget)
    figures = selectors.budget_figures(budget)
    assert budget.status == BudgetStatus.DEFICIT
    assert (figures.state, figures.deficit, figures.remaining) == ("deficit", D(30), D(-30))
    fund(budget, "30", name="Part du lieu")
    budget.refresh_from_db()
    assert budget.status == BudgetStatus.OPEN
    changes = AuditEvent.objects.filter(action="contributions.budget.status_changed").order_by("pk")
    assert [e.data["after"] for e in changes] == ["deficit", "open"]


def test_the_figures_take_a_fixed_number_of_queries_whatever_the_number_of_requests(
    budget, member, django_assert_num_queries
):
    fund(budget, "100000", received="100000")
    for _ in range(30):
        validated(budget, member, "10")
    with django_assert_num_queries(2):
        selectors.budget_figures(budget)


# Burn-down -----------------------------------------------------------------------------------------------


def test_the_burn_down_goes_week_by_week_and_stops_at_today(monkeypatch, network, venue, project, member):
    quarter = data.budget(
        network, slug="trimestre", venue=venue, starts_on=date(2026, 1, 5), ends_on=date(2026, 3, 29)
    )
    monkeypatch.setattr("lieux.contributions.selectors.budgets.now", lambda: at_noon(date(2026, 2, 4)))
    source = fund(quarter, "1200")
    record_receipt(source=source, amount="500", received_on=date(2026, 1, 20))
    for day, amount in [(date(2026, 1, 7), "100"), (date(2026, 1, 21), "50"), (date(2026, 2, 3), "70")]:
        made = validated(quarter, member, amount)
        LedgerTransaction.objects.filter(key=f"validation:{made.pk}").update(at=at_noon(day))
    rebuild_ledger_days(quarter)  # the postings were moved back in time after being made
    series = selectors.burn_down(quarter)
    assert series.step == "week" and len(series.points) == 12
    assert [p.on for p in series.points[:3]] == [date(2026, 1, 11), date(2026, 1, 18), date(2026, 1, 25)]
    first, second, third, _fourth, fifth = series.points[:5]
    assert (first.committed, first.granted, first.envelope_left, first.received) == (
        D(1200),
        D(100),
        D(1100),
        0,
    )
    assert second.granted == D(100)
    assert (third.granted, third.envelope_left, third.received) == (D(150), D(1050), D(500))
    assert fifth.granted == D(220)  # the week of 2 February, still running
    assert all(p.granted is None for p in series.points[5:])
    assert series.points[-1].ideal == 0 and first.ideal == D(1200) * 77 // 84


def test_a_finished_budgets_burn_down_ends_on_its_figures(monkeypatch, budget, member):
    monkeypatch.setattr("lieux.contributions.selectors.budgets.now", lambda: at_noon(date(2027, 3, 1)))
    fund(budget, "1000", received="400")
    validated(budget, member, "250")
    series = selectors.burn_down(budget)
    figures = selectors.budget_figures(budget)
    last = series.points[-1]
    assert series.step == "month" and len(series.points) == 12 and last.on == date(2026, 12, 31)
    assert (last.committed, last.granted, last.envelope_left, last.received) == (
        figures.committed,
        figures.granted,
        figures.remaining,
        figures.received,
    )


days = st.dates(min_value=date(2025, 6, 1), max_value=date(2027, 6, 30))
movements = st.dictionaries(
    days,
    st.builds(
        rules.Movement,
        committed=st.integers(-500, 5000).map(D),
        granted=st.integers(0, 3000).map(D),
        received=st.integers(0, 3000).map(D),
    ),
    max_size=30,
)


@given(
    start=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
    length=st.integers(0, 800),
    today=days,
    moved=movements,
    step=st.sampled_from(["week", "month", None]),
)
def test_the_burn_down_series_covers_the_period_and_adds_every_movement_up(start, length, today, moved, step):
    end = start + timedelta(days=length)
    series = rules.burn_down(
        starts_on=start, ends_on=end, today=today, movements=moved, total_committed=D(1000), step=step
    )
    ends = [p.on for p in series.points]
    assert ends == sorted(ends) and ends[-1] == end and ends[0] >= start
    assert all(b - a <= timedelta(days=31) for a, b in zip([start, *ends], ends, strict=False))
    started = [p for p in series.points if p.granted is not None]
    assert all(p.envelope_left == p.committed - p.granted for p in started)
    assert [p.ideal for p in series.points] == sorted((p.ideal for p in series.points), reverse=True)
    if today >= end:
        last = series.points[-1]
        assert last.granted == sum((m.granted for m in moved.values()), D(0))
        assert last.received == sum((m.received for m in moved.values()), D(0))


@pytest.mark.django_db
def test_a_debt_paid_in_full_leaves_nobody_owed_even_in_cents_of_floating_point(network, venue, member):
    """SQLite keeps decimals as binary floats: 0.10 + 0.20 − 0.30 must still come back to exactly zero in
    the per-person sums, or the person would stay listed as owed 0.00 €."""
    data.project(network, "jardin", venue=venue)
    budget = data.budget(network, venue=venue)
    fund(budget, "10", received="10")
    validated(budget, member, "0.10")
    validated(budget, member, "0.20")
    pay_in_euros(budget=budget, person=member, invoice_reference="FAC-1", paid_on=date.today())
    assert not selectors.owed_ranking(budget).exists()
    assert selectors.person_owed(budget, member.pk) == 0
