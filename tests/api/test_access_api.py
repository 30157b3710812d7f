"""The door API: device authentication, the access check, the allow-list, offline uploads, bad input and
the per-device rate limit."""

import json
from datetime import timedelta

import pytest

from lieux.core.models import AuditEvent
from lieux.core.time import now
from lieux.interlieux import ratelimit, tokens
from lieux.interlieux.models import AccessAudit, OfflinePassage, Visit
from lieux.interlieux.services import keys
from lieux.interlieux.services.credentials import issue_qr_token, register_badge
from lieux.interlieux.services.devices import revoke_door_device
from tests.api.conftest import ApiClient, assert_error, client_for
from tests.factories import UserFactory
from tests.interlieux_data import door, network_key, pass_plan, subscribe


@pytest.fixture(autouse=True)
def fresh_limits():
    ratelimit.DEVICE_LIMIT.reset()
    yield
    ratelimit.DEVICE_LIMIT.reset()


@pytest.fixture
def traveller(venue, other_venue, network):
    network_key(network)
    person = UserFactory(email="voyage@example.org", first_name="Lou", last_name="Martin")
    subscribe(pass_plan(venue, [other_venue], days_per_month=8), person)
    register_badge(venue=venue, person=person, uid="04A21BC3")
    return person


@pytest.fixture
def baraka_door(other_venue):
    return door(other_venue)


def device_client(raw: str) -> ApiClient:
    client = ApiClient()
    client.authorization = f"Device {raw}"
    return client


def open_now(monkeypatch, venue):
    """Pin the clock to 10:00 today at the venue, when it is open."""
    moment = now().astimezone(venue.tz).replace(hour=10, minute=0, second=0, microsecond=0)
    monkeypatch.setattr("lieux.interlieux.services.check.now", lambda: moment)
    monkeypatch.setattr("lieux.interlieux.services.offline.now", lambda: moment + timedelta(hours=1))
    return moment


def test_a_badge_at_a_partner_door_is_let_in_with_a_first_name(
    traveller, baraka_door, other_venue, monkeypatch
):
    open_now(monkeypatch, other_venue)
    client = device_client(baraka_door[1])
    response = client.post("/access/check", {"credential": "04:A2:1B:C3"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["allowed"] is True and body["reason"] == "ok_pass"
    assert body["display_name"] == "Lou"
    assert "Martin" not in response.content.decode() and "@" not in response.content.decode()
    assert (
        body["explanation"].endswith("1 of 8 days used this month at Baraka")
        or "1 sur 8" in body["explanation"]
    )
    for _ in range(3):
        again = client.post("/access/check", {"credential": "04A21BC3"})
    assert again.json()["passages_today"] == 4
    assert Visit.objects.count() == 1


def test_a_qr_code_is_accepted_once(traveller, baraka_door, other_venue, network, monkeypatch):
    moment = open_now(monkeypatch, other_venue)
    token, _ = issue_qr_token(person=traveller, network=network, at=moment)
    client = device_client(baraka_door[1])
    assert client.post("/access/check", {"credential": token}).json()["allowed"] is True
    replay = client.post("/access/check", {"credential": token}).json()
    assert (replay["allowed"], replay["reason"]) == (False, "replayed_token")


@pytest.mark.parametrize(
    ("credential", "reason"),
    [
        ("CAFEBABE", "unknown_credential"),
        ("LC1.aaaaaaaaaaaa.bbbb", "bad_token"),
        ("%%%", "unknown_credential"),
    ],
)
def test_refused_credentials_write_only_an_audit_row(traveller, baraka_door, credential, reason):
    before = (Visit.objects.count(), AuditEvent.objects.count(), AccessAudit.objects.count())
    response = device_client(baraka_door[1]).post("/access/check", {"credential": credential})
    assert response.status_code == 200
    assert response.json()["allowed"] is False and response.json()["reason"] == reason
    assert response.json()["display_name"] == ""
    assert (Visit.objects.count(), AuditEvent.objects.count(), AccessAudit.objects.count()) == (
        before[0],
        before[1],
        before[2] + 1,
    )


def test_a_device_of_another_venue_is_refused(traveller, baraka_door):
    response = device_client(baraka_door[1]).post(
        "/access/check", {"credential": "04A21BC3", "venue": "la-coroutine"}
    )
    assert response.json()["reason"] == "wrong_venue_device"
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    "authorization",
    [None, "Device ", "Device ld_unknown", "Bearer {device}", "device {device}", "Device {device}x"],
)
def test_without_a_valid_device_token_the_answer_is_401(traveller, baraka_door, member, authorization):
    client = ApiClient()
    if authorization is not None:
        client.authorization = authorization.format(device=baraka_door[1])
    before = AccessAudit.objects.count()
    assert_error(client.post("/access/check", {"credential": "04A21BC3"}), 401, "unauthenticated")
    assert_error(client.get("/access/allowlist"), 401, "unauthenticated")
    assert AccessAudit.objects.count() == before


def test_a_persons_bearer_token_is_not_a_device_token(traveller, member):
    assert_error(client_for(member).post("/access/check", {"credential": "04A21BC3"}), 401, "unauthenticated")


def test_a_revoked_device_is_refused(traveller, baraka_door):
    revoke_door_device(device=baraka_door[0])
    assert_error(device_client(baraka_door[1]).get("/access/allowlist"), 401, "unauthenticated")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"credential": ""},
        {"credential": "x" * 401},
        {"credential": 12},
        {"credential": "04A2\u0000"},
        {"credential": "04A21BC3", "extra": 1},
        {"credential": "04A21BC3", "venue": "../etc"},
        [],
    ],
)
def test_malformed_bodies_are_422_and_write_nothing(traveller, baraka_door, body):
    before = (Visit.objects.count(), AccessAudit.objects.count())
    response = device_client(baraka_door[1]).post("/access/check", body)
    assert_error(response, 422, "invalid_request")
    assert (Visit.objects.count(), AccessAudit.objects.count()) == before


def test_a_body_that_is_not_json_is_refused_without_a_500(traveller, baraka_door):
    response = device_client(baraka_door[1]).post("/access/check", raw="{not json")
    assert response.status_code in (400, 422)
    assert response.json()["code"] in ("malformed_json", "invalid_request")


def test_each_device_is_rate_limited_and_others_are_not(traveller, baraka_door, other_venue, monkeypatch):
    # A frozen clock: every request falls in the same one-second window, however slow the test machine.
    monkeypatch.setattr(ratelimit.DEVICE_LIMIT, "clock", lambda: 1000.0)
    noisy = device_client(baraka_door[1])
    codes = [noisy.post("/access/check", {"credential": "CAFEBABE"}).status_code for _ in range(25)]
    assert codes[:20] == [200] * 20
    assert set(codes[20:]) == {429}
    limited = noisy.post("/access/check", {"credential": "CAFEBABE"})
    assert_error(limited, 429, "rate_limited")
    quiet = device_client(door(other_venue, "Porte arrière")[1])
    assert quiet.post("/access/check", {"credential": "04A21BC3"}).status_code == 200


def test_the_allowlist_is_signed_by_a_published_key(traveller, baraka_door, network):
    response = device_client(baraka_door[1]).get("/access/allowlist")
    assert response.status_code == 200, response.content
    document = response.json()
    public = keys.public_key_of(keys.current_key(network))
    assert document["public_keys"][document["key_id"]] == keys.current_key(network).public_key
    assert tokens.verify_document(document["snapshot"], document["signature"], public_key=public)
    assert document["snapshot"]["venue"] == "baraka" and len(document["snapshot"]["entries"]) == 1
    assert "encrypted" not in response.content.decode() and "voyage@" not in response.content.decode()


def test_offline_visits_are_deduplicated(traveller, baraka_door, other_venue, monkeypatch):
    moment = open_now(monkeypatch, other_venue)
    body = {
        "passages": [
            {"id": "a1", "credential": "04A21BC3", "at": moment.isoformat()},
            {"id": "a2", "credential": "04A21BC3", "at": (moment + timedelta(minutes=20)).isoformat()},
        ]
    }
    client = device_client(baraka_door[1])
    first = client.post("/access/offline-visits", body).json()["results"]
    second = client.post("/access/offline-visits", body).json()["results"]
    assert [r["outcome"] for r in first] == ["recorded", "recorded"]
    assert [r["outcome"] for r in second] == ["duplicate", "duplicate"]
    assert Visit.objects.get().passages == 2 and OfflinePassage.objects.count() == 2


@pytest.mark.parametrize(
    "passages",
    [
        [],
        [{"id": "a", "credential": "04A21BC3", "at": "2026-12-01T10:00:00"}],
        [{"id": "a", "credential": "04A21BC3", "at": 1764583200}],
        [{"id": "", "credential": "04A21BC3", "at": "2026-12-01T10:00:00+01:00"}],
        [{"id": "a", "credential": "04A21BC3"}],
    ],
)
def test_bad_offline_batches_are_refused_whole(traveller, baraka_door, passages):
    response = device_client(baraka_door[1]).post("/access/offline-visits", {"passages": passages})
    assert response.status_code == 422
    assert response.json()["code"] in ("invalid_request", "naive_datetime")
    assert not OfflinePassage.objects.exists()


def test_the_schema_documents_device_authentication(anonymous):
    document = json.loads(anonymous.client.get("/api/v1/openapi.json").content)
    operation = document["paths"]["/api/v1/access/check"]["post"]
    assert operation["security"]
