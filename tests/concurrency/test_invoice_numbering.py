"""Gapless, chronological invoice numbers with concurrent issuers and failing transactions, on SQLite and
PostgreSQL, and proof that the test bites when the issuing locks are removed.

Ten threads, each on its own database connection, issue 300 drafts of three venues in random order. One
issuing transaction in twenty fails after its number was taken (the audit row is written, then the
transaction raises): its number must go back to the counter with everything else, so each (venue, kind,
year) series reads 1..N with no hole and no duplicate, in the order the documents were issued.
"""

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection, connections
from django.db.models import Max

from lieux.billing.models import BillingProfile, Invoice, InvoiceSeries, InvoiceStatus
from lieux.billing.services import issue as issue_module
from lieux.billing.services.chain import verify
from lieux.billing.services.drafts import DraftLine, create_draft
from lieux.billing.services.issue import issue_invoice
from lieux.core.models import AuditEvent
from tests.factories import UserFactory, VenueFactory

pytestmark = pytest.mark.usefixtures("flushable_legal_records")

THREADS = 10
PER_VENUE = 100
FAILING_SHARE = 0.05
SEED = 2026


class InjectedFailure(RuntimeError):
    """Raised inside an issuing transaction after the number was taken."""


@dataclass
class Outcome:
    issued: int = 0
    injected: int = 0
    errors: list[str] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)  # every "database is locked", even one retried
    latencies: list[float] = field(default_factory=list)


def _spy_locked(outcome: Outcome, guard: threading.Lock):
    def spy(execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        except OperationalError as error:
            if "locked" in str(error):
                with guard:
                    outcome.locked.append(f"{error} during {sql[:60]}")
            raise

    return spy


def issue_concurrently(draft_ids: list[int], *, threads: int = THREADS, seed: int = SEED) -> Outcome:
    """Issue the drafts from `threads` threads started together, each taking the next draft of a shared,
    shuffled queue."""
    queue = list(draft_ids)
    random.Random(seed).shuffle(queue)
    outcome = Outcome()
    guard = threading.Lock()
    barrier = threading.Barrier(threads)

    def client() -> None:
        try:
            with connection.execute_wrapper(_spy_locked(outcome, guard)):
                barrier.wait()
                while True:
                    with guard:
                        if not queue:
                            return
                        draft_id = queue.pop()
                    started = time.perf_counter()
                    try:
                        issue_invoice(draft_id)
                        result = "issued"
                    except InjectedFailure:
                        result = "injected"
                    except Exception as error:
                        result = "error"
                        with guard:
                            outcome.errors.append(f"{type(error).__name__}: {error}")
                    with guard:
                        outcome.latencies.append(time.perf_counter() - started)
                        if result == "issued":
                            outcome.issued += 1
                        elif result == "injected":
                            outcome.injected += 1
        finally:
            connections.close_all()

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not any(worker.is_alive() for worker in workers), "an issuing thread hung"
    return outcome


def make_drafts(venue, buyers, count: int) -> list[int]:
    return [
        create_draft(
            venue=venue,
            buyer_user=buyers[n % len(buyers)],
            lines=[
                DraftLine("Abonnement coworking", Decimal(1), Decimal("150.00")),
                DraftLine("Casier", Decimal(1), Decimal("12.50") + n % 7),
            ],
            service_from=date(2026, 12, 1),
            service_to=date(2026, 12, 31),
        ).pk
        for n in range(count)
    ]


@pytest.fixture
def venues(venue, other_venue):
    return [venue, other_venue, VenueFactory(network=venue.network, name="Mons Fabrica", slug="fabrica")]


@pytest.fixture
def buyers(db):
    return [UserFactory(email=f"abonne{n}@example.org") for n in range(12)]


@pytest.fixture
def drafts(venues, buyers) -> dict[int, list[int]]:
    return {v.pk: make_drafts(v, buyers, PER_VENUE) for v in venues}


@pytest.fixture
def doomed(drafts, monkeypatch) -> set[int]:
    """One draft in twenty (fixed seed) fails while issued, after its number, footprint and audit row
    were written."""
    every = [pk for ids in drafts.values() for pk in ids]
    chosen = set(random.Random(SEED).sample(every, round(len(every) * FAILING_SHARE)))
    real_record = issue_module.audit.record

    def record_then_fail(action, obj, **kwargs):
        event = real_record(action, obj, **kwargs)
        if action == "billing.invoice.issued" and obj.pk in chosen:
            raise InjectedFailure(f"failure injected while issuing draft {obj.pk}")
        return event

    monkeypatch.setattr(issue_module.audit, "record", record_then_fail)
    return chosen


def assert_series_gapless_and_chronological() -> dict[tuple[int, str, int], int]:
    """Per (venue, kind, year): numbers 1..N, no duplicate, number text matching the sequence, sequence
    order equal to issue-time order, and the counter row at N. Returns N per series."""
    sizes = {}
    issued = Invoice.objects.filter(status=InvoiceStatus.ISSUED)
    for venue_id, kind, year in issued.values_list("venue_id", "kind", "year").distinct():
        series = list(issued.filter(venue_id=venue_id, kind=kind, year=year).order_by("sequence", "pk"))
        sequences = [invoice.sequence for invoice in series]
        assert sequences == list(range(1, len(series) + 1)), f"series {venue_id}/{kind}/{year}"
        assert len({invoice.number for invoice in series}) == len(series)
        assert all(invoice.number.endswith(f"-{year}-{invoice.sequence:06d}") for invoice in series)
        by_time = sorted(series, key=lambda invoice: (invoice.issued_at, invoice.pk))
        assert [i.pk for i in by_time] == [i.pk for i in series], "numbers out of issue order"
        assert all(a.issued_at < b.issued_at for a, b in pairwise(series))
        counter = InvoiceSeries.objects.get(venue_id=venue_id, kind=kind, year=year)
        assert counter.last_number == len(series)
        sizes[(venue_id, kind, year)] = len(series)
    return sizes


def test_concurrent_issuers_with_failures_leave_every_series_gapless(venues, drafts, doomed):
    outcome = issue_concurrently([pk for ids in drafts.values() for pk in ids])

    assert outcome.errors == []
    assert outcome.locked == []  # IMMEDIATE transactions on SQLite: writers queue, none is refused
    assert outcome.injected == len(doomed) == 15
    assert outcome.issued == 3 * PER_VENUE - len(doomed)

    sizes = assert_series_gapless_and_chronological()
    for venue in venues:
        failed_here = len(doomed & set(drafts[venue.pk]))
        year = Invoice.objects.filter(venue=venue, status=InvoiceStatus.ISSUED).first().year
        assert sizes[(venue.pk, "invoice", year)] == PER_VENUE - failed_here

    failed = Invoice.objects.filter(pk__in=doomed)
    assert {(i.status, i.number, i.sequence, i.issued_at, i.footprint) for i in failed} == {
        (InvoiceStatus.DRAFT, None, None, None, "")
    }
    # The failed transactions' audit rows went with them.
    issued_events = AuditEvent.objects.filter(action="billing.invoice.issued")
    assert issued_events.count() == outcome.issued
    assert not issued_events.filter(object_id__in=[str(pk) for pk in doomed]).exists()
    assert list(verify()) == []


def test_drafts_that_failed_are_numbered_next_once_issued_again(venues, drafts, doomed, monkeypatch):
    issue_concurrently([pk for ids in drafts.values() for pk in ids])
    monkeypatch.undo()  # the failure is gone

    for pk in sorted(doomed):
        issue_invoice(pk)

    sizes = assert_series_gapless_and_chronological()
    assert sorted(sizes.values()) == [PER_VENUE] * 3
    assert not Invoice.objects.filter(status=InvoiceStatus.DRAFT).exists()
    assert list(verify()) == []


@pytest.fixture
def issuing_locks_removed(postgres, monkeypatch):
    """The naive numbering: the draft alone is locked (not its venue row too, as the select_related join
    of the guarded code does), the venue's billing profile is read without a lock, and the next number is
    MAX(sequence) + 1 read without locking the counter, with a few milliseconds of work between reading
    it and writing the invoice, as a real issuer has."""
    monkeypatch.setattr(
        issue_module,
        "Invoice",
        SimpleNamespace(
            objects=SimpleNamespace(
                select_for_update=lambda: Invoice.objects.select_for_update(of=("self",))
            ),
            DoesNotExist=Invoice.DoesNotExist,
        ),
    )
    monkeypatch.setattr(
        issue_module,
        "BillingProfile",
        SimpleNamespace(objects=SimpleNamespace(select_for_update=BillingProfile.objects.all)),
    )

    def max_plus_one(venue, kind, year):
        latest = Invoice.objects.filter(venue=venue, kind=kind, year=year).aggregate(m=Max("sequence"))
        time.sleep(0.005)
        return (latest["m"] or 0) + 1

    monkeypatch.setattr(issue_module, "_next_number", max_plus_one)


def test_without_the_issuing_locks_the_same_race_collides(issuing_locks_removed, venues, drafts):
    """Shows that test_concurrent_issuers_with_failures_leave_every_series_gapless would catch a missing
    lock: concurrent issuers take the same number, and the unique constraint refuses all but one."""
    outcome = issue_concurrently(drafts[venues[0].pk])

    collisions = Counter(
        "invoice_number_unique_per_venue" in e or "invoice_sequence_unique" in e for e in outcome.errors
    )
    assert collisions[True] > 0
    assert outcome.issued + collisions[True] == PER_VENUE
    # Refused issues leave drafts behind that a guarded run would have numbered.
    assert Invoice.objects.filter(venue=venues[0], status=InvoiceStatus.DRAFT).count() == collisions[True]
