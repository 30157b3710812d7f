"""Scans racing each other: one badge read by several doors at once records one visit with every passage;
one QR code shown to several doors at once opens one of them; the same offline batch uploaded in parallel
records each passage once. The variant without the visit guard shows the test would catch its loss."""

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connections

from lieux.core.time import now
from lieux.interlieux.models import OfflinePassage, Visit
from lieux.interlieux.services import check, visits
from lieux.interlieux.services.credentials import issue_qr_token, register_badge
from lieux.interlieux.services.offline import OfflinePassageIn, upload_offline_passages
from tests.factories import UserFactory
from tests.interlieux_data import door, local, network_key, pass_plan, subscribe

THREADS = 12
SCANS_EACH = 4


@pytest.fixture
def scene(flushable_legal_records, venue, other_venue, network):
    network_key(network)
    person = UserFactory(email="voyage@example.org", first_name="Lou")
    subscribe(pass_plan(venue, [other_venue], days_per_month=8), person)
    register_badge(venue=venue, person=person, uid="04A21BC3")
    doors = [door(other_venue, f"Porte {i}")[0] for i in range(THREADS)]
    moment = local(other_venue, now().astimezone(other_venue.tz).date(), 10)
    return person, doors, moment


def all_at_once(work, count: int = THREADS) -> tuple[Counter, list[str]]:
    outcomes: Counter = Counter()
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(count)

    def client(index: int) -> None:
        try:
            barrier.wait()
            result = work(index)
            with lock:
                outcomes[result] += 1
        except Exception as error:
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes, errors


def scan_many(doors, moment):
    def work(index: int) -> str:
        reasons = []
        for n in range(SCANS_EACH):
            result = check.check_access(
                device=doors[index], credential="04A21BC3", at=moment + timedelta(milliseconds=n)
            )
            reasons.append(result.decision.reason)
        return ",".join(sorted(set(reasons)))

    return all_at_once(work)


def test_concurrent_scans_of_one_badge_record_one_visit_with_every_passage(scene):
    _person, doors, moment = scene
    outcomes, errors = scan_many(doors, moment)
    assert errors == []
    assert outcomes == Counter({"ok_pass": THREADS})
    visit = Visit.objects.get()
    assert visit.passages == THREADS * SCANS_EACH
    assert visit.first_seen_at == moment


def test_one_qr_code_at_many_doors_at_once_opens_one(scene):
    person, doors, moment = scene
    token, _ = issue_qr_token(person=person, network=doors[0].venue.network, at=moment)
    outcomes, errors = all_at_once(
        lambda i: check.check_access(device=doors[i], credential=token, at=moment).decision.reason
    )
    assert errors == []
    assert outcomes == Counter({"ok_pass": 1, "replayed_token": THREADS - 1})
    assert Visit.objects.get().passages == 1


def test_the_same_offline_batch_uploaded_in_parallel_counts_once(scene):
    _person, doors, moment = scene
    batch = [OfflinePassageIn(f"p{n}", "04A21BC3", moment + timedelta(minutes=n)) for n in range(3)]
    outcomes, errors = all_at_once(
        lambda i: ",".join(
            o.outcome
            for o in upload_offline_passages(device=doors[0], passages=batch, at=moment + timedelta(hours=1))
        )
    )
    assert errors == []
    assert OfflinePassage.objects.count() == 3
    assert Visit.objects.get().passages == 3
    recorded = sum(result.count("recorded") * n for result, n in outcomes.items())
    assert recorded == 3


@pytest.fixture
def visit_guard_removed(postgres, monkeypatch):
    """Read, then insert or add one in Python, with a little think time: what a get_or_create followed by
    `visit.passages += 1; visit.save()` does."""

    def read_then_write(*, person_id, venue_id, day, at, home_venue_id, subscription_id, source):
        visit = Visit.objects.filter(person_id=person_id, venue_id=venue_id, day=day).first()
        time.sleep(0.02)
        if visit is None:
            return Visit.objects.create(
                person_id=person_id,
                venue_id=venue_id,
                day=day,
                first_seen_at=at,
                last_seen_at=at,
                home_venue_id=home_venue_id,
                subscription_id=subscription_id,
                source=source,
            )
        visit.passages = visit.passages + 1
        visit.last_seen_at = max(visit.last_seen_at, at)
        visit.save(update_fields=["passages", "last_seen_at"])
        return visit

    monkeypatch.setattr(visits, "upsert_visit", read_then_write)


def test_without_the_guard_concurrent_scans_fail_or_lose_passages(visit_guard_removed, scene):
    """Shows that test_concurrent_scans_of_one_badge_record_one_visit_with_every_passage would catch a
    naive read-then-write."""
    _person, doors, moment = scene
    _outcomes, errors = scan_many(doors, moment)
    recorded = Visit.objects.filter(passages__gte=1).values_list("passages", flat=True)
    assert errors or sum(recorded) < THREADS * SCANS_EACH
    assert Visit.objects.count() <= 1  # the unique constraint still holds the line on visits
