"""Running the clearing of the same month from several threads at once (the CLI, the network page, a
scheduled task): one statement, one set of lines and transfers; closing at once: one invoice per transfer.
And proof that the test bites: without the unique constraint and the claim of the statement row, the same
race writes the month twice.

Real threads with their own connections against a real database file or server."""

import threading
import time
from datetime import date
from importlib import import_module

import pytest
from django.core.management import call_command
from django.db import connection, connections

from lieux.billing.models import Invoice
from lieux.interlieux.clearing.models import ClearingStatement, SettlementLine, StatementStatus, Transfer
from lieux.interlieux.clearing.services import run as run_module
from lieux.interlieux.clearing.services.close import close_month
from lieux.interlieux.clearing.services.run import run_clearing
from lieux.interlieux.clearing.tests.data import MONTH, per_visit_key, visits
from tests.factories import VenueFactory

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6
GUARDS = "lieux.interlieux.clearing.migrations.0002_closed_months_immutable"


@pytest.fixture
def flushable_clearing_records(flushable_legal_records):
    """Like `flushable_legal_records`, for closed months too: SQLite's flush runs DELETEs that the clearing's
    triggers refuse for a closed month, so they are lifted around the flush as well."""
    yield
    if connection.vendor != "sqlite":
        return
    connections.close_all()
    guards = [import_module(GUARDS), import_module("lieux.billing.migrations.0002_immutable_records")]
    with connection.schema_editor() as editor:
        for guard in guards:
            guard.uninstall(None, editor)
    try:
        call_command("flush", interactive=False, verbosity=0)
    finally:
        with connection.schema_editor() as editor:
            for guard in guards:
                guard.install(None, editor)


@pytest.fixture
def month_of_visits(flushable_clearing_records, network, venue, other_venue):
    third = VenueFactory(network=network, name="Mons Fabrica", slug="mons-fabrica")
    visits(home=venue, host=other_venue, count=30)
    visits(home=other_venue, host=third, count=12)
    visits(home=third, host=venue, count=3)
    per_visit_key(network)
    return network


def at_once(work) -> list[str]:
    """Run `work()` in THREADS threads released together; the errors they met, as text."""
    barrier = threading.Barrier(THREADS)
    errors: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        try:
            barrier.wait()
            work()
        except Exception as error:
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def assert_one_statement() -> ClearingStatement:
    assert ClearingStatement.objects.filter(month=MONTH).count() == 1
    statement = ClearingStatement.objects.get(month=MONTH)
    assert SettlementLine.objects.filter(statement=statement).count() == 3
    assert Transfer.objects.filter(statement=statement).count() == 2
    return statement


def test_concurrent_runs_of_a_month_write_one_statement(month_of_visits):
    network = month_of_visits
    errors = at_once(lambda: run_clearing(network, MONTH))
    assert errors == []
    statement = assert_one_statement()
    # Owed 150, 60 and 15 around the circle; netted, La Coroutine pays 90 and 45.
    assert statement.cleared_amount == 135


def test_concurrent_closes_issue_each_invoice_once(month_of_visits):
    network = month_of_visits
    errors = at_once(lambda: run_clearing(network, MONTH, close=True))
    # The first closes the month; the others find it closed and are told so.
    assert len(errors) == THREADS - 1 and all("closed" in e for e in errors)
    statement = assert_one_statement()
    assert statement.status == StatementStatus.CLOSED
    assert Invoice.objects.count() == 2
    errors = at_once(lambda: close_month(statement))
    assert errors == [] and Invoice.objects.count() == 2


@pytest.fixture
def guard_removed(postgres, month_of_visits, monkeypatch):
    """The statement claimed by reading first, then creating (no row lock), with the unique constraint on
    (network, month) dropped: the check-then-act the guard replaces."""

    def check_then_create(network, month, key):
        existing = ClearingStatement.objects.filter(network=network, month=month).first()
        time.sleep(0.05)  # the think time between reading and writing
        return existing or ClearingStatement.objects.create(network=network, month=month, key=key)

    monkeypatch.setattr(run_module, "claim_statement", check_then_create)
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE clearing_clearingstatement DROP CONSTRAINT one_clearing_statement_per_month"
        )
    yield month_of_visits
    connections.close_all()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE clearing_clearingstatement CASCADE")
        cursor.execute(
            "ALTER TABLE clearing_clearingstatement ADD CONSTRAINT one_clearing_statement_per_month"
            " UNIQUE (network_id, month)"
        )


def test_without_the_guard_the_same_race_writes_the_month_twice(guard_removed):
    """Shows that test_concurrent_runs_of_a_month_write_one_statement would catch a missing guard."""
    network = guard_removed
    assert at_once(lambda: run_clearing(network, MONTH)) == []
    assert ClearingStatement.objects.filter(month=MONTH).count() > 1
    with pytest.raises(AssertionError):
        assert_one_statement()


def test_months_apart_do_not_wait_for_each_other(month_of_visits):
    network = month_of_visits
    months = iter(
        [MONTH, date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)]
    )
    lock = threading.Lock()

    def next_month() -> None:
        with lock:
            month = next(months)
        run_clearing(network, month)

    assert at_once(next_month) == []
    assert ClearingStatement.objects.count() == THREADS
