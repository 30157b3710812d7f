"""Running, closing, recomputing and explaining a month's clearing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from lieux.billing.models import Invoice, InvoiceStatus
from lieux.core.errors import Conflict, ValidationError
from lieux.core.models import AuditEvent
from lieux.core.time import now
from lieux.interlieux.clearing.models import (
    ClearingStatement,
    SettlementLine,
    StatementStatus,
    Transfer,
)
from lieux.interlieux.clearing.services.close import close_month
from lieux.interlieux.clearing.services.explain import explain, recompute
from lieux.interlieux.clearing.services.keys import vote_key
from lieux.interlieux.clearing.services.run import preview_clearing, run_clearing
from lieux.interlieux.clearing.tests.data import MONTH, per_visit_key, visits

pytestmark = pytest.mark.django_db


@pytest.fixture
def month_of_visits(network, venue, other_venue, third_venue, people):
    """La Coroutine's members: 30 visits at Baraka, 5 at Mons Fabrica; Baraka's: 10 at La Coroutine;
    Mons Fabrica's: 20 at Baraka; and visits at one's own venue, which are not cleared."""
    visits(home=venue, host=other_venue, count=30)
    visits(home=venue, host=third_venue, count=5)
    visits(home=other_venue, host=venue, count=10)
    visits(home=third_venue, host=other_venue, count=20)
    visits(home=venue, host=venue, count=40)
    visits(home=venue, host=other_venue, count=7, month=date(2026, 2, 1))  # another month
    return venue, other_venue, third_venue


def line(statement, venue) -> SettlementLine:
    return statement.lines.get(venue=venue)


def test_a_run_values_the_cross_venue_visits_nets_them_and_keeps_its_inputs(network, month_of_visits):
    coroutine, baraka, fabrica = month_of_visits
    key = per_visit_key(network, price="5.00")
    statement = run_clearing(network, date(2026, 1, 17), progress=lambda _l: None)

    assert (statement.month, statement.status, statement.key) == (MONTH, StatementStatus.DRAFT, key)
    assert statement.visits == 65
    # Coroutine owes Baraka (30 − 10) × 5 = 100 and Fabrica 25; Fabrica owes Baraka 100.
    assert (line(statement, coroutine).gross_owed, line(statement, coroutine).gross_due) == (125, 0)
    assert [line(statement, v).net for v in (coroutine, baraka, fabrica)] == [
        Decimal("-125.00"),
        Decimal("200.00"),
        Decimal("-75.00"),
    ]
    assert (line(statement, coroutine).visits_out, line(statement, baraka).visits_in) == (35, 50)
    transfers = sorted((t.debtor_id, t.creditor_id, t.amount) for t in statement.transfers.all())
    assert transfers == sorted(
        [(coroutine.pk, baraka.pk, Decimal(125)), (fabrica.pk, baraka.pk, Decimal(75))]
    )
    assert statement.cleared_amount == Decimal(200)
    assert sorted(statement.inputs["cells"]) == sorted(
        [
            [coroutine.pk, baraka.pk, 30, 30],
            [coroutine.pk, fabrica.pk, 5, 5],
            [baraka.pk, coroutine.pk, 10, 10],
            [fabrica.pk, baraka.pk, 20, 20],
        ]
    )
    assert statement.key_snapshot["version"] == 1 and statement.key_snapshot["unit_price"] == "5.00"
    assert AuditEvent.objects.filter(
        action="clearing.statement.computed", object_id=str(statement.pk)
    ).exists()


def test_running_a_draft_month_again_rewrites_the_one_statement(network, month_of_visits, people):
    coroutine, baraka, _fabrica = month_of_visits
    per_visit_key(network)
    first = run_clearing(network, MONTH)
    visits(home=baraka, host=coroutine, count=20, month=date(2026, 1, 10))  # uploaded late
    again = run_clearing(network, MONTH)
    assert again.pk == first.pk and ClearingStatement.objects.count() == 1
    assert line(again, coroutine).net == Decimal("-25.00")  # (30 − 30) × 5 to Baraka, 25 to Fabrica
    assert SettlementLine.objects.filter(statement=again).count() == 3


def test_long_stays_count_two_half_days(network, venue, other_venue, people):
    visits(home=venue, host=other_venue, count=4, hours=3)
    visits(home=venue, host=other_venue, count=3, hours=6, month=date(2026, 1, 20))
    vote_key(network=network, method="per_half_day", unit_price=Decimal("4.00"), voted_on=date(2025, 1, 1))
    statement = run_clearing(network, MONTH)
    assert statement.inputs["cells"] == [[venue.pk, other_venue.pk, 7, 10]]
    assert line(statement, other_venue).net == Decimal("40.00")


def test_allowance_and_cap_of_the_key(network, month_of_visits):
    coroutine, baraka, fabrica = month_of_visits
    per_visit_key(network, price="5.00", allowance=10, cap="40.00")
    statement = run_clearing(network, MONTH)
    # Coroutine → Baraka: 20 of difference, 10 free, 50 capped at 40; → Fabrica: 5, all free;
    # Fabrica → Baraka: 20, 10 free, 50 capped at 40.
    assert [line(statement, v).net for v in (coroutine, baraka, fabrica)] == [
        Decimal("-40.00"),
        Decimal("80.00"),
        Decimal("-40.00"),
    ]


def test_the_key_voted_by_the_end_of_the_month_applies(network, month_of_visits):
    per_visit_key(network, price="5.00", voted_on=date(2025, 12, 1))
    per_visit_key(network, price="9.00", voted_on=date(2026, 2, 3))  # voted after January
    statement = run_clearing(network, MONTH)
    assert statement.key_snapshot["version"] == 1


def test_revenue_share_needs_the_pass_revenue_and_distributes_it(network, month_of_visits):
    coroutine, baraka, fabrica = month_of_visits
    vote_key(
        network=network, method="revenue_share", revenue_share_percent=Decimal(10), voted_on=date(2025, 1, 1)
    )
    with pytest.raises(ValidationError) as refused:
        run_clearing(network, MONTH)
    assert refused.value.code == "pass_revenue_required"
    assert not ClearingStatement.objects.exists()

    statement = run_clearing(
        network, MONTH, pass_revenue={coroutine.pk: Decimal("700.00"), baraka.pk: Decimal("100.00")}
    )
    # Coroutine gives 70 € in proportion 30:5; Baraka gives 10 € to Coroutine; Fabrica gave no revenue.
    assert line(statement, fabrica).gross_due == Decimal("10.00")
    assert line(statement, coroutine).gross_owed == Decimal("70.00")
    assert sum(line.net for line in statement.lines.all()) == 0
    assert statement.inputs["pass_revenue"] == {str(coroutine.pk): "700.00", str(baraka.pk): "100.00"}


def test_no_key_no_run(network, month_of_visits):
    with pytest.raises(ValidationError) as refused:
        run_clearing(network, MONTH)
    assert refused.value.code == "no_key"


def test_a_dry_run_writes_nothing(network, month_of_visits):
    per_visit_key(network)
    result = preview_clearing(network, MONTH)
    assert len(result.transfers) == 2 and result.cleared_amount == Decimal(200)
    assert not ClearingStatement.objects.exists()


# --- Closing ---------------------------------------------------------------------------------------------


def test_closing_issues_one_b2b_invoice_per_transfer_and_freezes_the_month(network, month_of_visits):
    coroutine, baraka, fabrica = month_of_visits
    per_visit_key(network)
    statement = close_month(run_clearing(network, MONTH))

    assert statement.status == StatementStatus.CLOSED and statement.closed_at is not None
    invoices = Invoice.objects.filter(venue=baraka).order_by("gross_amount")
    assert [i.status for i in invoices] == [InvoiceStatus.ISSUED] * 2
    fabrica_invoice, coroutine_invoice = invoices
    assert coroutine_invoice.net_amount == Decimal(125) and coroutine_invoice.gross_amount == Decimal(150)
    assert coroutine_invoice.buyer["kind"] == "business"
    assert coroutine_invoice.buyer["siren"] == coroutine.siren
    assert coroutine_invoice.buyer["name"] == coroutine.legal_name
    assert coroutine_invoice.source_key == f"clearing:{statement.pk}:{coroutine.pk}"
    assert (coroutine_invoice.service_from, coroutine_invoice.service_to) == (MONTH, date(2026, 1, 31))
    assert fabrica_invoice.buyer["siren"] == fabrica.siren
    assert set(statement.transfers.values_list("invoice_id", flat=True)) == {i.pk for i in invoices}

    assert close_month(statement).pk == statement.pk  # closing again changes nothing
    assert Invoice.objects.count() == 2
    with pytest.raises(Conflict) as refused:
        run_clearing(network, MONTH)
    assert refused.value.code == "month_closed"


def test_a_closed_month_refuses_changes_in_the_orm(network, month_of_visits):
    per_visit_key(network)
    statement = close_month(run_clearing(network, MONTH))
    statement.visits = 1
    with pytest.raises(Conflict):
        statement.save()
    with pytest.raises(Conflict):
        statement.delete()
    key = statement.key
    key.unit_price = Decimal(1)
    with pytest.raises(Conflict):
        key.save()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE clearing_clearingstatement SET visits = 1",
        "DELETE FROM clearing_clearingstatement",
        "UPDATE clearing_settlementline SET net = 0",
        "DELETE FROM clearing_settlementline",
        "UPDATE clearing_transfer SET amount = 1",
        "DELETE FROM clearing_transfer",
        "UPDATE clearing_clearingkey SET unit_price = 1",
    ],
)
def test_a_closed_month_and_its_key_refuse_changes_in_the_database(network, month_of_visits, sql):
    per_visit_key(network)
    close_month(run_clearing(network, MONTH))
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


def test_a_draft_month_stays_changeable_in_the_database(network, month_of_visits):
    per_visit_key(network)
    run_clearing(network, MONTH)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE clearing_transfer SET amount = amount")
        cursor.execute("DELETE FROM clearing_transfer")
    assert not Transfer.objects.exists()


def test_the_month_must_be_over_to_close(network, venue, other_venue, people):
    this_month = timezone.localdate(now()).replace(day=1)
    visits(home=venue, host=other_venue, count=3, month=this_month)
    per_visit_key(network, voted_on=this_month - timedelta(days=40))
    statement = run_clearing(network, this_month)
    with pytest.raises(ValidationError) as refused:
        close_month(statement)
    assert refused.value.code == "month_not_over"
    statement.refresh_from_db()
    assert statement.status == StatementStatus.DRAFT and not Invoice.objects.exists()


def test_run_and_close_in_one_call_reuses_the_debtors_organisation(network, month_of_visits):
    coroutine, _baraka, _fabrica = month_of_visits
    per_visit_key(network)
    from lieux.interlieux.clearing.services.close import organisation_for_venue

    existing = organisation_for_venue(coroutine)
    statement = run_clearing(network, MONTH, close=True)
    assert statement.status == StatementStatus.CLOSED
    buyer_ids = set(Invoice.objects.values_list("buyer_organisation_id", flat=True))
    assert existing.pk in buyer_ids and len(buyer_ids) == 2


# --- Recompute and explain -------------------------------------------------------------------------------


def test_recompute_gives_the_same_figures_from_the_stored_inputs(network, month_of_visits, people):
    coroutine, baraka, _fabrica = month_of_visits
    per_visit_key(network, allowance=3)
    statement = close_month(run_clearing(network, MONTH))
    visits(home=coroutine, host=baraka, count=50, month=date(2026, 1, 5))  # after the fact
    per_visit_key(network, price="99.00")  # and a new vote
    again = recompute(statement)
    assert again.matches
    assert again.balances == {line.venue_id: line.net for line in statement.lines.all()}
    text = "\n".join(explain(statement))
    assert "key v1" in text and "3 free" in text and f"{coroutine.name} pays {baraka.name} 95.00" in text


def test_recompute_notices_a_statement_that_does_not_add_up(network, month_of_visits):
    per_visit_key(network)
    statement = run_clearing(network, MONTH)
    statement.transfers.update(amount=Decimal(1))
    assert not recompute(statement).matches
