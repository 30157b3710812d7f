"""`lieux contributions`: the treasurer's commands, and their refusals."""

import re
import shlex
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from lieux.contributions.models import (
    BudgetStatus,
    CreditConversion,
    CreditSettlement,
    FundingReceipt,
    FundingSource,
)
from lieux.contributions.selectors import budgets as selectors
from lieux.contributions.services.payouts import pay_in_credit, pay_in_euros
from tests import contributions_data as data
from tests.budget_data import fund, validated
from tests.credits_data import credit_type

D = Decimal


@pytest.fixture
def budget(network, venue):
    data.project(network, venue=venue)
    return data.budget(network, venue=venue)


def run(*args: str) -> str:
    out = StringIO()
    call_command("contributions", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_a_treasurer_funds_receives_shows_and_closes_a_budget(budget, member):
    run(
        "funding", "add", budget.slug, "--name", "ANCT", "--kind", "grant", "--amount", "1500,50",
        "--committed-on", "2026-01-15", "--funder", "ANCT",
    )  # fmt: skip
    run("receipt", "add", budget.slug, "--source", "ANCT", "--amount", "500", "--received-on", "2026-02-01")
    validated(budget, member, "200")
    shown = run("budget", "show", budget.slug, "--step", "month")
    assert "1500.50" in shown and "500.00" in shown and "1300.50" in shown
    assert f"{member.pk}: 200.00" in shown
    run("close", budget.slug)
    budget.refresh_from_db()
    assert budget.status == BudgetStatus.CLOSED
    assert FundingSource.objects.get().amount == D("1500.50") and FundingReceipt.objects.get().amount == 500


def test_closing_in_deficit_by_top_up_from_the_command_line(budget, member):
    run(
        "funding",
        "add",
        budget.slug,
        "--name",
        "ANCT",
        "--kind",
        "grant",
        "--amount",
        "100",
        "--committed-on",
        "2026-01-15",
    )
    validated(budget, member, "130")
    with pytest.raises(CommandError, match="deficit"):
        run("close", budget.slug)
    with pytest.raises(CommandError, match="--top-up-name"):
        run("close", budget.slug, "--method", "top_up")
    run("close", budget.slug, "--method", "top_up", "--top-up-name", "Part du lieu", "--top-up-amount", "30")
    budget.refresh_from_db()
    assert budget.closed_with == "top_up" and selectors.budget_figures(budget).remaining == 0


FUNDING = "funding add fabrique-2026 --name X --committed-on 2026-01-01"


@pytest.mark.parametrize(
    "line",
    [
        "budget show nowhere",
        f"{FUNDING} --kind grant --amount -5",
        f"{FUNDING} --kind carried_over --amount 5",
        "funding add fabrique-2026 --name X --kind grant --amount 5 --committed-on 15/01/2026",
        "receipt add fabrique-2026 --source absent --amount 5 --received-on 2026-01-01",
        "close fabrique-2026 --method carry_over",
        "close fabrique-2026 --method somehow",
    ],
)
def test_bad_input_stops_with_a_message_and_writes_nothing(budget, line):
    with pytest.raises(CommandError):
        run(*line.split())
    assert not FundingSource.objects.exists()
    budget.refresh_from_db()
    assert budget.status == BudgetStatus.OPEN


def test_a_receipt_beyond_the_commitment_is_refused(budget):
    run(
        "funding",
        "add",
        budget.slug,
        "--name",
        "ANCT",
        "--kind",
        "grant",
        "--amount",
        "100",
        "--committed-on",
        "2026-01-15",
    )
    with pytest.raises(CommandError, match="left to receive"):
        run(
            "receipt",
            "add",
            budget.slug,
            "--source",
            "ANCT",
            "--amount",
            "101",
            "--received-on",
            "2026-02-01",
        )
    assert not FundingReceipt.objects.exists()


@pytest.fixture
def credit_at_baraka(budget, network, other_venue, member):
    """97.50 € of network credit issued at Baraka; 100 € of cash received."""
    fund(budget, "1000", received="100")
    validated(budget, member, "100")
    days = CreditConversion.objects.create(
        network=network, credit_type=credit_type(other_venue), euros_per_credit=D(15)
    )
    pay_in_credit(budget=budget, person=member, conversion=days, actor=member)
    return other_venue


def test_a_treasurer_settles_the_credit_a_venue_honours(budget, credit_at_baraka):
    said = run(
        "settle-credit", "--budget", str(budget.pk), "--venue", "baraka", "--amount", "60.00",
        "--reference", "F-12", "--date", "2026-03-02",
    )  # fmt: skip
    assert "60.00 € paid to Baraka against its invoice F-12; 37.50 € of credit still to settle" in said
    settlement = CreditSettlement.objects.get()
    assert (settlement.venue, settlement.settled_on, settlement.created_by) == (
        credit_at_baraka,
        date(2026, 3, 2),
        None,
    )
    # By the budget's slug and the venue's id, today.
    run("settle-credit", "--budget", budget.slug, "--venue", str(credit_at_baraka.pk), "--amount", "37.50",
        "--reference", "F-13")  # fmt: skip
    figures = selectors.budget_figures(budget)
    assert (figures.credit_settled, figures.credit_to_settle, figures.cash) == (D("97.50"), 0, D("2.50"))
    assert "Credit still to settle" in run("budget", "show", budget.slug)


SETTLE = "settle-credit --reference F-12 --venue"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (f"{SETTLE} baraka --amount 97.51", "still to settle"),
        (f"{SETTLE} baraka --amount 0", "positive"),
        (f"{SETTLE} nowhere --amount 10", "No venue nowhere"),
        (f"{SETTLE} baraka --amount 10 --date 2999-01-01", "future"),
        (f"{SETTLE} baraka --amount 10 --date 02/03/2026", "not a date"),
        ("settle-credit --venue baraka --amount 10 --reference ' '", "invoice"),
    ],
)
def test_a_refused_settlement_stops_with_a_message_and_writes_nothing(
    budget, credit_at_baraka, line, message
):
    with pytest.raises(CommandError, match=message):
        run(*shlex.split(line), "--budget", str(budget.pk))
    assert not CreditSettlement.objects.exists()


def test_a_settlement_beyond_the_cash_says_what_is_there(budget, credit_at_baraka, other_member):
    validated(budget, other_member, "90")
    pay_in_euros(budget=budget, person=other_member, invoice_reference="FAC-1", paid_on=date(2026, 3, 1))
    with pytest.raises(CommandError, match=re.escape("60.00 € to pay but only 10.00 € received")):
        run("settle-credit", "--budget", str(budget.pk), "--venue", "baraka", "--amount", "60",
            "--reference", "F-1")  # fmt: skip
    assert not CreditSettlement.objects.exists()
