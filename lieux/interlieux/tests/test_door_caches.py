"""What a server process keeps between two door checks, and what it never trusts to its copy.

The device row, the venue's calendar and the network's public keys are kept a minute per process; a
revoked device is refused at its next check whatever the copy says, hours changed through the process
apply at once and those changed elsewhere within the bound, a key created elsewhere is read when a token
names it and a retired key stops verifying at the end of its grace, copy or not. And a warm check costs
two reads and two writes."""

import json
from datetime import UTC, datetime, time, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from lieux.core.time import now
from lieux.interlieux import ratelimit, rules, tokens
from lieux.interlieux.models import AccessAudit, DoorDevice, NetworkKey, Visit, VisitSource
from lieux.interlieux.services import check, devices, keys, visits
from lieux.interlieux.services.credentials import issue_qr_token, register_badge
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import Closure, OpeningHours
from tests.interlieux_data import local, pass_plan, plan, subscribe

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@pytest.fixture(autouse=True)
def fresh_limits():
    ratelimit.DEVICE_LIMIT.reset()
    yield
    ratelimit.DEVICE_LIMIT.reset()


@pytest.fixture
def scene(venue, other_venue, member, traveller, key):
    subscribe(plan(venue), member)
    register_badge(venue=venue, person=member, uid="DEADBEEF")
    subscribe(pass_plan(venue, [other_venue], days_per_month=8), traveller)
    register_badge(venue=venue, person=traveller, uid="04A21BC3")
    return member, traveller


@pytest.fixture
def clock(monkeypatch, venue):
    """The checks' instant, 10:00 today at the venue (open from 8 to 20), and the caches' own clock."""
    moment = local(venue, now().astimezone(venue.tz).date(), 10)
    monkeypatch.setattr("lieux.interlieux.services.check.now", lambda: moment)
    ticks = {"now": 1000.0}
    for module in (venue_selectors, devices, keys):
        monkeypatch.setattr(module.time, "monotonic", lambda: ticks["now"])
    # A process that starts now: nothing kept from earlier tests (whose rows had the same ids).
    devices.forget_door()
    venue_selectors.forget_calendars()
    keys.forget_keys()
    return ticks


def post_check(raw_token: str, credential: str):
    return Client().post(
        "/api/v1/access/check",
        data=json.dumps({"credential": credential}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Device {raw_token}",
    )


def statements(captured) -> list[str]:
    return [
        q["sql"] for q in captured.captured_queries if not q["sql"].lstrip().startswith(TRANSACTION_CONTROL)
    ]


def test_a_warm_door_check_reads_twice_and_writes_twice(scene, front_door, other_door, clock):
    _device, raw = front_door
    assert post_check(raw, "CAFEBABE").json()["reason"] == rules.UNKNOWN_CREDENTIAL  # device now kept
    assert post_check(raw, "DEADBEEF").json()["reason"] == rules.OK_MEMBER  # calendar now kept
    with CaptureQueriesContext(connection) as captured:
        again = post_check(raw, "DE:AD:BE:EF").json()
    assert (again["reason"], again["passages_today"]) == (rules.OK_MEMBER, 2)
    run = statements(captured)
    assert len(run) == 4, run  # badge and person; facts; visit upsert; audit row
    assert [s.lstrip().split()[0] for s in run] == ["SELECT", "SELECT", "INSERT", "INSERT"]
    with CaptureQueriesContext(connection) as captured:
        assert post_check(raw, "0BADC0DE").json()["reason"] == rules.UNKNOWN_CREDENTIAL
    assert len(statements(captured)) == 2  # the badge lookup and the audit row


def test_the_first_door_met_brings_the_other_doors_of_its_network(scene, front_door, other_door, clock):
    assert devices.door_for_token(front_door[1]) is not None
    with CaptureQueriesContext(connection) as captured:
        kept = devices.door_for_token(other_door[1])
    assert kept == other_door[0] and kept.venue.name == "Baraka"
    assert captured.captured_queries == []
    clock["now"] += devices.DOOR_CACHE_SECONDS + 1
    with CaptureQueriesContext(connection) as captured:
        assert devices.door_for_token(other_door[1]) == other_door[0]
    assert len(captured.captured_queries) == 2  # this door, then its network's doors again


def test_a_qr_code_adds_only_its_used_token_row(scene, other_door, network, clock):
    _device, raw = other_door
    _member, traveller = scene
    post_check(raw, "04A21BC3")  # warms the device and Baraka's calendar
    token, _claims = issue_qr_token(person=traveller, network=network, at=check.now())
    post_check(raw, issue_qr_token(person=traveller, network=network, at=check.now())[0])  # warms the keys
    with CaptureQueriesContext(connection) as captured:
        assert post_check(raw, token).json()["reason"] == rules.OK_PASS
    assert len(statements(captured)) == 5


def test_a_device_revoked_by_another_process_is_refused_at_its_next_check(scene, front_door, clock):
    device, raw = front_door
    assert post_check(raw, "DEADBEEF").status_code == 200
    assert devices.door_for_token(raw) is not None  # this process keeps the row
    # What another server process (or the admin) does: this process's copy is not told.
    DoorDevice.objects.filter(pk=device.pk).update(revoked_at=now())
    written = (AccessAudit.objects.count(), Visit.objects.get().passages)
    response = post_check(raw, "DEADBEEF")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
    assert (AccessAudit.objects.count(), Visit.objects.get().passages) == written
    assert post_check(raw, "CAFEBABE").status_code == 401  # the copy is gone: the row is read again
    assert AccessAudit.objects.count() == written[0]


def test_a_device_revoked_through_this_process_is_forgotten_at_once(scene, front_door, clock):
    device, raw = front_door
    assert devices.door_for_token(raw) is not None
    devices.revoke_door_device(device=device)
    assert devices.door_for_token(raw) is None


def test_hours_changed_through_this_process_apply_at_once(scene, front_door, venue, clock):
    _device, raw = front_door
    assert post_check(raw, "DEADBEEF").json()["reason"] == rules.OK_MEMBER
    weekday = check.now().weekday()
    for hours in OpeningHours.objects.filter(venue=venue, weekday=weekday):
        hours.opens_at = time(11)
        hours.save()
    assert post_check(raw, "DEADBEEF").json()["reason"] == rules.OUTSIDE_HOURS
    Closure.objects.create(venue=venue, starts_on=check.now().date(), ends_on=check.now().date())
    assert post_check(raw, "DEADBEEF").json()["reason"] == rules.VENUE_CLOSED


def test_hours_changed_elsewhere_reach_the_door_within_the_bound(scene, front_door, venue, clock):
    _device, raw = front_door
    assert post_check(raw, "DEADBEEF").json()["reason"] == rules.OK_MEMBER
    # Another process changes the hours: no signal reaches this one.
    OpeningHours.objects.filter(venue=venue).update(opens_at=time(11))
    assert post_check(raw, "DEADBEEF").json()["reason"] == rules.OK_MEMBER
    clock["now"] += venue_selectors.CALENDAR_CACHE_SECONDS + 1
    assert post_check(raw, "DEADBEEF").json()["reason"] == rules.OUTSIDE_HOURS


def test_a_key_created_by_another_process_is_read_when_a_token_names_it(scene, other_door, network, clock):
    _member, traveller = scene
    device, _raw = other_door
    at = check.now()
    token, _ = issue_qr_token(person=traveller, network=network, at=at)
    assert check.check_access(device=device, credential=token, at=at).allowed  # the copy holds one key
    # Another process rotates the key: this one's copy still holds the old row only.
    private = Ed25519PrivateKey.generate()
    NetworkKey.objects.create(
        network=network,
        key_id="neuve001",
        public_key=private.public_key().public_bytes_raw().hex(),
        encrypted_private_key="",
        created_at=at,
    )
    fresh, _claims = tokens.issue(
        private_key=private,
        key_id="neuve001",
        network_id=network.pk,
        person_public_id=tokens.verify(
            token, public_keys=keys.public_keys(network.pk, at), network_id=network.pk, at=at
        ).person_public_id,
        issued_at=at,
    )
    assert check.check_access(device=device, credential=fresh, at=at + timedelta(seconds=1)).allowed


def test_a_retired_key_stops_verifying_at_the_end_of_its_grace_even_from_the_copy(
    scene, other_door, network, key, clock
):
    _member, traveller = scene
    device, _raw = other_door
    rotated_at = check.now() - keys.RETIRED_KEY_GRACE - timedelta(hours=1)
    old_private = keys.signing_key(network)[1]
    NetworkKey.objects.filter(pk=key.pk).update(
        retired_at=rotated_at, valid_until=rotated_at + keys.RETIRED_KEY_GRACE
    )
    keys.create_network_key(network=network, at=rotated_at)
    at = check.now()
    current, _ = issue_qr_token(person=traveller, network=network, at=at)
    assert check.check_access(device=device, credential=current, at=at).allowed  # the copy holds both rows
    holder = tokens.verify(
        current, public_keys=keys.public_keys(network.pk, at), network_id=network.pk, at=at
    )
    stale, _ = tokens.issue(
        private_key=old_private,
        key_id=key.key_id,
        network_id=network.pk,
        person_public_id=holder.person_public_id,
        issued_at=at,
    )
    refused = check.check_access(device=device, credential=stale, at=at + timedelta(seconds=1))
    assert refused.decision.reason == rules.BAD_TOKEN


def test_a_late_passage_widens_the_visit_and_keeps_its_origin(scene, venue, other_venue):
    member, _traveller = scene
    day = now().astimezone(venue.tz).date()
    ten, nine = local(venue, day, 10), local(venue, day, 9)
    first = visits.upsert_visit(
        person_id=member.pk,
        venue_id=venue.pk,
        day=day,
        at=ten,
        home_venue_id=venue.pk,
        subscription_id=None,
        source=VisitSource.BADGE,
    )
    late = visits.upsert_visit(
        person_id=member.pk,
        venue_id=venue.pk,
        day=day,
        at=nine,
        home_venue_id=other_venue.pk,
        subscription_id=None,
        source=VisitSource.OFFLINE,
    )
    assert late.pk == first.pk and late.passages == 2
    assert (late.first_seen_at, late.last_seen_at) == (nine, ten)
    assert late.first_seen_at.tzinfo is not None and late.day == day
    assert (late.home_venue_id, late.source) == (venue.pk, VisitSource.BADGE)
    stored = Visit.objects.get()
    assert (stored.passages, stored.first_seen_at, stored.last_seen_at) == (2, nine, ten)
    assert stored.first_seen_at == datetime.fromtimestamp(nine.timestamp(), UTC)
