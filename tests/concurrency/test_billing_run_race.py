"""The billing run under concurrency and crashes: two runs of the same month at once, and a run killed with
SIGKILL at several points then started again, each leave one invoice per (subscription, period) and
gapless numbers; a person subscribing twice at once gets one subscription. And proof that the race tests
bite: without the row locks and the unique constraints, the same races invoice periods twice and
subscribe twice.

Real threads with their own connections, and a real child process killed by the operating system, against
a real database file or server.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections

from lieux.billing.models import Invoice
from lieux.core.errors import Conflict
from lieux.memberships.models import Subscription, SubscriptionInvoice
from lieux.memberships.services import billing_run
from lieux.memberships.services import subscriptions as S
from lieux.memberships.services.billing_run import RunReport, run_billing
from lieux.memberships.tests.subscription_data import (
    Clock,
    assert_gapless,
    assert_one_invoice_per_period,
    make_plan,
)
from tests.factories import UserFactory, add_role

pytestmark = pytest.mark.django_db(transaction=True)

JANUARY = date(2027, 1, 1)
SUBSCRIPTIONS = 40
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def december_subscriptions(flushable_legal_records, clock, venue, other_venue):
    """Monthly subscriptions at two venues, started on December days: each has a January period to bill."""
    plans = [make_plan(venue), make_plan(other_venue, prices=(("2020-01-01", "80"),))]
    subscriptions = []
    for i in range(SUBSCRIPTIONS):
        person = UserFactory(email=f"coworker{i}@example.org")
        plan = plans[i % 2]
        add_role(person, plan.venue)
        clock.set(date(2026, 12, 1 + i % 20))
        subscriptions.append(S.subscribe(plan=plan, member=person, actor=person))
    clock.set("2027-01-31")
    return subscriptions


def race_runs(runs: int = 2) -> tuple[list[RunReport], list[str]]:
    reports: list[RunReport] = []
    failures: list[str] = []
    barrier = threading.Barrier(runs)
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait()
            report = run_billing(period=JANUARY, progress=None)
            with lock:
                reports.append(report)
        except Exception as error:
            with lock:
                failures.append(f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return reports, failures


def january_links() -> int:
    return SubscriptionInvoice.objects.filter(period_start__gte=JANUARY).count()


def test_two_runs_of_the_same_month_at_once_invoice_each_period_once(
    december_subscriptions, venue, other_venue
):
    reports, failures = race_runs()
    assert failures == []
    assert [r.errors for r in reports] == [[], []]
    assert sum(r.invoices for r in reports) == SUBSCRIPTIONS  # each period issued by exactly one of them
    assert january_links() == SUBSCRIPTIONS
    assert_one_invoice_per_period()
    assert assert_gapless(venue) + assert_gapless(other_venue) == 2 * SUBSCRIPTIONS
    assert set(Subscription.objects.values_list("current_period_start__month", flat=True)) == {1}


@pytest.fixture
def guards(postgres, monkeypatch):
    """Switches to take the billing run's guards away: the row lock on the subscription, and the keys that
    make a period's invoice unique (the SubscriptionInvoice constraint, the draft's source_key)."""

    def remove_lock() -> None:
        def plain_read(subscription_ids):
            subscriptions = (
                Subscription.objects.select_related(
                    "plan", "next_plan", "venue", "member", "payer_organisation"
                )
                .filter(pk__in=subscription_ids)
                .order_by("pk")
            )
            read = {subscription.pk: subscription for subscription in subscriptions}
            time.sleep(0.003)  # the think time between reading the state and acting on it
            return read

        monkeypatch.setattr(billing_run, "lock_for_billing", plain_read)

    dropped = []

    def remove_keys() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE memberships_subscriptioninvoice DROP CONSTRAINT one_invoice_per_period"
            )
            cursor.execute("ALTER TABLE billing_invoice DROP CONSTRAINT invoice_source_key_unique")
        dropped.append(True)

    yield remove_lock, remove_keys
    connections.close_all()
    if dropped:
        with connection.cursor() as cursor:
            # Issued invoices refuse DELETE (triggers); TRUNCATE is how the test database is emptied anyway.
            cursor.execute("TRUNCATE billing_invoice, memberships_subscriptioninvoice CASCADE")
            cursor.execute(
                "ALTER TABLE memberships_subscriptioninvoice ADD CONSTRAINT one_invoice_per_period"
                " UNIQUE (subscription_id, period_start)"
            )
            cursor.execute(
                "ALTER TABLE billing_invoice ADD CONSTRAINT invoice_source_key_unique"
                " UNIQUE (venue_id, source_key)"
            )


def test_without_the_lock_the_unique_constraint_still_refuses_a_second_invoice(
    guards, december_subscriptions
):
    remove_lock, _remove_keys = guards
    remove_lock()
    reports, failures = race_runs()
    assert failures == [] and [r.errors for r in reports] == [[], []]
    assert january_links() == SUBSCRIPTIONS
    assert_one_invoice_per_period()


def test_without_the_guards_the_same_race_invoices_periods_twice(guards, december_subscriptions):
    """Shows that test_two_runs_of_the_same_month_at_once_invoice_each_period_once would catch a missing
    guard."""
    remove_lock, remove_keys = guards
    remove_lock()
    remove_keys()
    race_runs()
    assert january_links() > SUBSCRIPTIONS
    with pytest.raises(AssertionError):
        assert_one_invoice_per_period()


CHILD = """
import sys
from datetime import date

import django

django.setup()
from lieux.memberships.services.billing_run import run_billing

# Small batches, so that each kill below falls after some batches committed and inside another.
run_billing(
    period=date(2027, 1, 1),
    as_of=date(2027, 1, 31),
    progress=lambda line: print(line, flush=True),
    batch_size=2,
)
"""


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _run_child_and_kill_after(lines: int) -> int:
    """Start the run in a child process and SIGKILL it once it printed `lines` progress lines; returns how
    many it printed."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": _database_url(),
        "LIEUX_VAR_DIR": str(settings.VAR_DIR),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    seen = 0
    for line in child.stdout:
        if line.startswith("["):
            seen += 1
            if seen >= lines:
                child.send_signal(signal.SIGKILL)
                break
    child.wait(timeout=120)
    assert child.returncode == -signal.SIGKILL
    return seen


def test_a_run_killed_at_several_points_then_run_again_completes_without_duplicate_or_gap(
    december_subscriptions, venue, other_venue
):
    for kill_after in (3, 7, 12):
        assert _run_child_and_kill_after(kill_after) == kill_after
        connections.close_all()
    started = january_links()
    assert 0 < started < SUBSCRIPTIONS
    assert_one_invoice_per_period()
    report = run_billing(period=JANUARY, as_of=date(2027, 1, 31), progress=None)
    assert report.errors == []
    assert report.invoices == SUBSCRIPTIONS - started
    assert january_links() == SUBSCRIPTIONS
    assert_one_invoice_per_period()
    assert assert_gapless(venue) + assert_gapless(other_venue) == 2 * SUBSCRIPTIONS
    assert Invoice.objects.filter(status="draft").count() == 0


def _subscribe_race(plan, member, clients: int = 8) -> list[str]:
    outcomes: list[str] = []
    barrier = threading.Barrier(clients)
    lock = threading.Lock()

    def client() -> None:
        try:
            barrier.wait()
            S.subscribe(plan=plan, member=member, actor=member)
            result = "subscribed"
        except Conflict as conflict:
            result = conflict.code
        except Exception as error:
            result = f"{type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_subscribing_twice_at_once_makes_one_subscription(flushable_legal_records, clock, venue, member):
    plan = make_plan(venue)
    outcomes = _subscribe_race(plan, member)
    assert sorted(outcomes) == ["already_subscribed"] * 7 + ["subscribed"]
    assert Subscription.objects.filter(member=member, plan=plan).count() == 1
    assert Invoice.objects.count() == 1


def test_without_the_person_lock_the_same_race_subscribes_twice(
    postgres, flushable_legal_records, clock, venue, member, monkeypatch
):
    """Shows that test_subscribing_twice_at_once_makes_one_subscription would catch a missing lock."""
    monkeypatch.setattr(S, "lock_person", lambda person: time.sleep(0.003))
    plan = make_plan(venue)
    outcomes = _subscribe_race(plan, member)
    assert outcomes.count("subscribed") > 1
    assert Subscription.objects.filter(member=member, plan=plan).count() > 1
