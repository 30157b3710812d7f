"""`lieux contributions`: the treasurer's commands, and their refusals."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from lieux.contributions.models import BudgetStatus, FundingReceipt, FundingSource
from lieux.contributions.selectors import budgets as selectors
from tests import contributions_data as data
from tests.budget_data import validated

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
