"""Test data for budgets, payouts, closing and rounds: requests written directly in the state a test needs
(a validated request posts its validation to the ledger, as the review service does), and the ledger's
soundness checked from the outside."""

import time
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from lieux.contributions.models import (
    Account,
    Budget,
    Contribution,
    ContributionStatus,
    LedgerDay,
    LedgerEntry,
    LedgerTransaction,
    Project,
    TransactionKind,
)
from lieux.contributions.rules import ledger as ledger_rules
from lieux.contributions.selectors import budgets as selectors
from lieux.contributions.services.funding import add_funding_source, record_receipt
from lieux.contributions.services.ledger import Leg, post
from lieux.contributions.services.ledger_days import days_from_entries, owed_from_entries
from lieux.core.time import now
from tests import contributions_data as data

D = Decimal


def request(
    budget: Budget,
    person,
    amount: str | Decimal,
    *,
    project: Project | None = None,
    status: str = ContributionStatus.SUBMITTED,
    hours: str | None = None,
    performed_on: date = date(2026, 2, 1),
) -> Contribution:
    project = project or budget.project or Project.objects.filter(network=budget.network).first()
    assert project is not None, "create a project first"
    return Contribution.objects.create(
        project=project,
        budget=budget,
        contributor=person,
        declared_by=person,
        performed_on=performed_on,
        hours=D(hours) if hours else None,
        description="Atelier",
        amount_asked=D(amount),
        status=status,
    )


def validated(budget: Budget, person, amount: str | Decimal, **fields) -> Contribution:
    """A request validated for `amount`, with its VALIDATION posting (envelope +G / owed −G)."""
    with transaction.atomic():
        made = request(budget, person, amount, status=ContributionStatus.VALIDATED, **fields)
        made.amount_granted = D(amount)
        made.validated_at = now()
        made.save(update_fields=["amount_granted", "validated_at"])
        post(
            budget=budget,
            key=f"validation:{made.pk}",
            kind=TransactionKind.VALIDATION,
            legs=[
                Leg(Account.ENVELOPE, D(amount)),
                Leg(Account.OWED, -D(amount), person_id=person.pk),
            ],
        )
    return made


def fund(budget: Budget, committed: str, received: str | None = None, name: str = "Fabrique de Territoire"):
    source = add_funding_source(
        budget=budget, name=name, kind="grant", amount=committed, committed_on=date(2026, 1, 5), funder="ANCT"
    )
    if received:
        record_receipt(source=source, amount=received, received_on=date(2026, 1, 20), reference=f"VIR-{name}")
    return source


def assert_ledger_sound(budget: Budget) -> ledger_rules.Figures:
    """Every transaction balances, the budget's ledger sums to zero and its figures agree with it."""
    unbalanced = (
        LedgerTransaction.objects.filter(budget=budget)
        .annotate(total=Sum("entries__amount"))
        .exclude(total=0)
        .count()
    )
    assert unbalanced == 0
    assert LedgerEntry.objects.filter(budget=budget).exclude(transaction__budget=budget).count() == 0
    balances = selectors.ledger_balances(budget)
    assert {a: b for a, b in balances.items() if b} == {
        a: b for a, b in selectors.entry_balances(budget).items() if b
    }
    days = {
        (d.account, d.kind, d.day): d.amount
        for d in LedgerDay.objects.filter(budget=budget).exclude(amount=0)
    }
    assert days == days_from_entries(budget)
    assert selectors.owed_by_person(budget) == owed_from_entries(budget)
    figures = selectors.budget_figures(budget)
    assert ledger_rules.inconsistencies(balances, figures) == []
    return figures


def budget_around_today(network, venue, *, committed: str, received: str) -> Budget:
    """A venue's budget running from two months ago to ten months ahead, funded, with a project to ask."""
    data.project(network, "jardin", venue=venue)
    today = timezone.localdate()
    made = data.budget(
        network,
        "fabrique",
        venue=venue,
        starts_on=today - timedelta(days=60),
        ends_on=today + timedelta(days=300),
    )
    fund(made, committed, received=received)
    return made


def cash_left(budget: Budget) -> Decimal:
    return LedgerEntry.objects.filter(budget=budget, account=Account.CASH).aggregate(t=Sum("amount"))["t"]


def remove_budget_lock(monkeypatch, service_module) -> None:
    """Make `service_module` read the budget without locking it, and think a little between reading the cash
    and paying, as a handler that checked the balance and then wrote would: the race tests show their guard
    is the budget lock by failing this way."""
    read_cash = selectors.cash_available

    def read_without_lock(budget):
        return Budget.objects.get(pk=budget if isinstance(budget, int) else budget.pk)

    def slow_cash(budget):
        available = read_cash(budget)
        time.sleep(0.05)
        return available

    monkeypatch.setattr(service_module, "lock_budget", read_without_lock)
    monkeypatch.setattr(service_module, "cash_available", slow_cash)
