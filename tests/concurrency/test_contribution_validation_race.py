"""Concurrent validations cannot push a budget past its guard rail unnoticed.

Twelve requests of 30 € on a budget funded with 100 €, validated by twelve threads at the same instant,
each on its own connection. Each request is a different row, so the request locks do not serialise the
validations: only the budget's row lock, taken before the envelope is read from the ledger, does.

- Hard cap (`overrun = refuse`): exactly three are validated (90 €), nine are refused with
  `envelope_exceeded`, and the envelope never goes below zero.
- Deficit allowed: all twelve are validated, the budget is flagged in deficit (one audit row), and the
  ledger's sums stay consistent.

The variants without the lock (PostgreSQL only: SQLite's IMMEDIATE transactions serialise writers by
themselves) read the budget without locking it, with a little think time between reading the envelope and
posting, as a handler that checked and then wrote would: the same race then validates more than the
envelope holds under a hard cap, and leaves a budget in deficit not flagged as such. That shows the tests
above would catch a missing lock.
"""

import threading
import time
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from django.db import connections
from django.db.models import Sum

from lieux.contributions.errors import EnvelopeExceeded
from lieux.contributions.models import (
    Budget,
    BudgetStatus,
    Contribution,
    ContributionStatus,
    LedgerTransaction,
    Overrun,
    TransactionKind,
)
from lieux.contributions.services import review as review_module
from lieux.contributions.services.review import review_contribution
from lieux.core.models import AuditEvent
from tests import contributions_data as data
from tests.budget_data import assert_ledger_sound, fund
from tests.factories import UserFactory, add_role

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 12
ENVELOPE = Decimal("100.00")
ASKED = Decimal("30.00")


def scene(network, venue, overrun: str) -> tuple:
    steward = UserFactory(email="soucieux@example.org")
    add_role(steward, venue)
    project = data.project(network, "jardin", venue=venue, stewards=[steward])
    budget = data.budget(network, venue=venue, overrun=overrun)
    fund(budget, str(ENVELOPE))
    requests = [
        Contribution.objects.create(
            project=project,
            budget=budget,
            contributor=(person := UserFactory(email=f"contributeur{i}@example.org")),
            declared_by=person,
            performed_on=date(2026, 2, 1),
            description=f"Atelier {i}",
            amount_asked=ASKED,
            status=ContributionStatus.SUBMITTED,
        )
        for i in range(CLIENTS)
    ]
    return steward, budget, requests


@pytest.fixture
def hard_cap(network, venue):
    return scene(network, venue, Overrun.REFUSE)


@pytest.fixture
def deficit_allowed(network, venue):
    return scene(network, venue, Overrun.DEFICIT)


def validate_all_at_once(steward, requests) -> Counter:
    """Each request validated by its own thread, all released together; what became of them."""
    barrier = threading.Barrier(len(requests))
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def client(request) -> None:
        try:
            barrier.wait()
            review_contribution(contribution=request, reviewer=steward, verdict="validate")
            result = "validated"
        except EnvelopeExceeded:
            result = "refused"
        except Exception as error:
            result = f"{type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=client, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def granted(budget: Budget) -> Decimal:
    return Contribution.objects.filter(budget=budget, status=ContributionStatus.VALIDATED).aggregate(
        total=Sum("amount_granted")
    )["total"] or Decimal(0)


def test_concurrent_validations_never_pass_a_hard_cap(hard_cap):
    steward, budget, requests = hard_cap
    outcomes = validate_all_at_once(steward, requests)
    assert outcomes == Counter({"validated": 3, "refused": CLIENTS - 3})
    assert granted(budget) == 3 * ASKED <= ENVELOPE
    assert LedgerTransaction.objects.filter(budget=budget, kind=TransactionKind.VALIDATION).count() == 3
    figures = assert_ledger_sound(budget)
    assert (figures.granted, figures.remaining) == (3 * ASKED, ENVELOPE - 3 * ASKED)
    budget.refresh_from_db()
    assert budget.status == BudgetStatus.OPEN


def test_concurrent_validations_in_deficit_mode_always_flag_the_budget(deficit_allowed):
    steward, budget, requests = deficit_allowed
    outcomes = validate_all_at_once(steward, requests)
    assert outcomes == Counter({"validated": CLIENTS})
    budget.refresh_from_db()
    assert budget.status == BudgetStatus.DEFICIT
    assert AuditEvent.objects.filter(action="contributions.budget.deficit").count() == 1
    figures = assert_ledger_sound(budget)
    assert figures.granted == granted(budget) == CLIENTS * ASKED
    assert figures.deficit == CLIENTS * ASKED - ENVELOPE


@pytest.fixture
def lock_removed(postgres, monkeypatch):
    """The budget read without a lock, and a little think time between reading the envelope and posting."""
    read_envelope = review_module.remaining_envelope

    def read_without_lock(budget):
        return Budget.objects.get(pk=budget if isinstance(budget, int) else budget.pk)

    def read_then_think(budget):
        left = read_envelope(budget)
        time.sleep(0.05)
        return left

    monkeypatch.setattr(review_module, "lock_budget", read_without_lock)
    monkeypatch.setattr(review_module, "remaining_envelope", read_then_think)


def test_without_the_lock_the_same_race_passes_the_hard_cap(lock_removed, hard_cap):
    """Shows that test_concurrent_validations_never_pass_a_hard_cap would catch a missing lock."""
    steward, budget, requests = hard_cap
    outcomes = validate_all_at_once(steward, requests)
    assert outcomes["validated"] > 3
    assert granted(budget) > ENVELOPE


def test_without_the_lock_the_same_race_leaves_a_deficit_unflagged(lock_removed, deficit_allowed):
    """Shows that test_concurrent_validations_in_deficit_mode_always_flag_the_budget would catch a missing
    lock."""
    steward, budget, requests = deficit_allowed
    validate_all_at_once(steward, requests)
    assert granted(budget) > ENVELOPE
    budget.refresh_from_db()
    assert budget.status == BudgetStatus.OPEN


@pytest.fixture
def two_validations(hard_cap):
    steward, budget, requests = hard_cap
    budget.validations_required = 2
    budget.save(update_fields=["validations_required"])
    stewards = [steward]
    for i in range(5):
        person = UserFactory(email=f"soucieux{i}@example.org")
        add_role(person, budget.venue)
        requests[0].project.stewards.add(person)
        stewards.append(person)
    return stewards, requests[0]


def test_concurrent_validations_of_one_request_validate_it_once(two_validations):
    stewards, request = two_validations
    barrier = threading.Barrier(len(stewards))
    errors: list[str] = []

    def client(steward) -> None:
        try:
            barrier.wait()
            review_contribution(contribution=request, reviewer=steward, verdict="validate")
        except Exception as error:
            errors.append(type(error).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(s,)) for s in stewards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    # Two validations reach the required number; the others find the request decided already.
    assert sorted(errors) == ["ContributionStateError"] * (len(stewards) - 2)
    request.refresh_from_db()
    assert (request.status, request.amount_granted) == (ContributionStatus.VALIDATED, ASKED)
    assert LedgerTransaction.objects.filter(kind=TransactionKind.VALIDATION).count() == 1
    assert AuditEvent.objects.filter(action="contributions.contribution.validated").count() == 1
