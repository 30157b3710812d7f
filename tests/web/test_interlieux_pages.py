"""Pages of the Pass Interlieux: reception desk, badges and doors of a venue, a member's pass and visits."""

import csv
import io
import json
from datetime import timedelta

import pytest

from lieux.core.time import now
from lieux.interlieux.models import Badge, DoorDevice, Visit, VisitSource
from lieux.interlieux.services.credentials import register_badge
from lieux.interlieux.services.devices import device_for_token
from tests.factories import UserFactory
from tests.interlieux_data import network_key, pass_plan, plan, subscribe
from tests.web.conftest import client_for


@pytest.fixture
def open_clock(monkeypatch, venue):
    """Ten in the morning today, when the test venues are open."""
    moment = now().astimezone(venue.tz).replace(hour=10, minute=0, second=0, microsecond=0)
    for module in ("lieux.interlieux.services.check", "lieux.web.interlieux_views"):
        monkeypatch.setattr(f"{module}.now", lambda: moment)
    return moment


@pytest.fixture
def traveller(venue, other_venue, network):
    """Lou, subscribed at La Coroutine (`venue`) with a pass that includes Baraka (`other_venue`)."""
    network_key(network)
    person = UserFactory(email="voyage@example.org", first_name="Lou", last_name="Martin")
    subscribe(pass_plan(venue, [other_venue], days_per_month=8), person)
    register_badge(venue=venue, person=person, uid="04A21BC3")
    return person


def test_reception_checks_in_a_partner_visitor_by_badge_and_shows_a_first_name(
    traveller, other_manager, other_venue, open_clock
):
    client = client_for(other_manager)
    response = client.post(f"/gestion/{other_venue.slug}/accueil/", {"code": "04a21bc3"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Lou" in page and "Martin" not in page and "voyage@example.org" not in page
    assert "1 of 8 days used this month at Baraka" in page
    assert "autofocus" in page
    assert Visit.objects.get().source == VisitSource.BADGE


def test_reception_finds_by_name_only_people_with_a_right_here(
    traveller, other_manager, other_venue, open_clock
):
    UserFactory(email="autre@example.org", first_name="Louise", last_name="Sans-Pass")
    client = client_for(other_manager)
    page = client.get(f"/gestion/{other_venue.slug}/accueil/", {"q": "lou"}).content.decode()
    assert "Lou" in page and "Louise" not in page
    response = client.post(f"/gestion/{other_venue.slug}/accueil/", {"person": traveller.pk})
    assert response.status_code == 200
    assert Visit.objects.get().source == VisitSource.KIOSK


def test_a_refused_code_is_shown_and_recorded_nowhere(traveller, other_manager, other_venue, open_clock):
    response = client_for(other_manager).post(f"/gestion/{other_venue.slug}/accueil/", {"code": "CAFEBABE"})
    assert response.status_code == 422
    assert "unknown badge or code" in response.content.decode()
    assert not Visit.objects.exists()


def test_reception_of_another_venue_is_a_404(traveller, other_manager, venue, member):
    assert client_for(other_manager).get(f"/gestion/{venue.slug}/accueil/").status_code == 404
    assert client_for(member).get(f"/gestion/{venue.slug}/accueil/").status_code == 404


def test_managers_register_and_revoke_badges(manager, venue, member):
    client = client_for(manager)
    response = client.post(f"/gestion/{venue.slug}/badges/", {"email": member.email, "uid": "04:AA:BB:CC"})
    assert response.status_code == 302
    badge = Badge.objects.get()
    assert badge.uid == "04AABBCC" and badge.person == member
    assert (
        client.post(f"/gestion/{venue.slug}/badges/", {"email": member.email, "uid": "04AABBCC"}).status_code
        == 409
    )
    client.post(f"/gestion/{venue.slug}/badges/{badge.pk}/revoquer/")
    badge.refresh_from_db()
    assert badge.revoked_at is not None


def test_another_venues_manager_cannot_revoke_a_badge(manager, other_manager, venue, member):
    badge = register_badge(venue=venue, person=member, uid="04AABBCC")
    response = client_for(other_manager).post(f"/gestion/{venue.slug}/badges/{badge.pk}/revoquer/")
    assert response.status_code == 404
    badge.refresh_from_db()
    assert badge.revoked_at is None


def test_a_door_token_is_shown_once_and_never_cached(manager, venue):
    client = client_for(manager)
    response = client.post(f"/gestion/{venue.slug}/portes/", {"name": "Porte du jardin"})
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    token = page.split('<code id="new-token">')[1].split("</code>")[0]
    assert device_for_token(token) == DoorDevice.objects.get()
    assert token not in client.get(f"/gestion/{venue.slug}/portes/").content.decode()


def test_my_pass_explains_each_venue_and_shows_a_fresh_qr_code(traveller, open_clock):
    response = client_for(traveller).get("/compte/pass/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page and 'http-equiv="refresh"' in page
    assert "valid: Pass Interlieux from La Coroutine, 1 of 8 days used this month at Baraka" in page
    assert response["Cache-Control"] == "no-store"


def test_my_pass_without_subscription_says_so(stranger):
    page = client_for(stranger).get("/compte/pass/").content.decode()
    assert "no subscription in force" in page and "<svg" not in page


def test_a_person_exports_their_own_visits_only(traveller, venue, other_venue, member):
    subscribe(plan(venue, "cowork"), member)
    moment = now()
    for person, where in ((traveller, other_venue), (member, venue)):
        Visit.objects.create(
            person=person,
            venue=where,
            home_venue=venue,
            day=moment.date() - timedelta(days=1),
            first_seen_at=moment,
            last_seen_at=moment,
            source=VisitSource.BADGE,
        )
    client = client_for(traveller)
    as_json = json.loads(client.get("/compte/pass/passages/", {"format": "json"}).content)
    assert [v["venue"] for v in as_json["visits"]] == ["Baraka"]
    as_csv = client.get("/compte/pass/passages/", {"format": "csv"})
    assert as_csv["Content-Disposition"].endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert len(rows) == 1 and rows[0]["home_venue"] == "La Coroutine"
    assert "Baraka" in client.get("/compte/pass/passages/").content.decode()


def test_the_badges_page_lists_a_badge_seen_at_two_venues_within_minutes(
    manager, venue, other_venue, traveller
):
    from lieux.interlieux.services import check
    from tests.interlieux_data import door

    moment = now().astimezone(venue.tz).replace(hour=10, minute=0, second=0, microsecond=0)
    check.check_access(device=door(venue)[0], credential="04A21BC3", at=moment)
    check.check_access(
        device=door(other_venue, "Porte Baraka")[0], credential="04A21BC3", at=moment + timedelta(minutes=3)
    )
    page = client_for(manager).get(f"/gestion/{venue.slug}/badges/").content.decode()
    anomalies = page.split('id="anomalies-title"')[1]
    assert "04A21BC3" in anomalies and other_venue.name in anomalies
    assert "No anomaly." not in anomalies
