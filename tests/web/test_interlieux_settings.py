"""The network's settings pages: the clearing key voted on the web through the same service as the command
line, the links that lead to the clearing page, and a plan's Pass Interlieux set from the plans screen."""

from datetime import date
from decimal import Decimal

import pytest

from lieux.core.models import AuditEvent
from lieux.interlieux.clearing.models import ClearingKey
from lieux.interlieux.models import NetworkAccess
from lieux.interlieux.services.network_access import set_network_access
from lieux.venues.models import Role
from tests.factories import NetworkFactory, UserFactory, VenueFactory, add_role
from tests.interlieux_data import plan, subscribe
from tests.web.conftest import client_for

pytestmark = pytest.mark.django_db

KEY_URL = "/gestion/reseau/monscobar/compensation/cle/"
VOTE = {
    "method": "per_visit",
    "unit_price": "6.50",
    "free_allowance": "2",
    "cap_per_pair": "150",
    "revenue_share_percent": "",
    "voted_on": "2026-01-15",
    "note": "AG du 15 janvier 2026",
}


@pytest.fixture
def admin(network):
    user = UserFactory(email="reseau@example.org", first_name="Claire")
    network.admins.add(user)
    return user


@pytest.fixture
def staff(venue):
    user = UserFactory(email="accueil@example.org", first_name="Hugo")
    add_role(user, venue, Role.STAFF)
    return user


# --- The clearing key ------------------------------------------------------------------------------------


def test_the_admin_records_a_key_and_finds_it_among_the_versions(admin, network):
    client = client_for(admin)
    form = client.get(KEY_URL)
    assert form.status_code == 200 and 'id="key-form"' in form.content.decode()
    answer = client.post(KEY_URL, VOTE)
    assert answer.status_code == 302 and answer["Location"] == KEY_URL
    key = ClearingKey.objects.get()
    assert (key.version, key.method, key.unit_price) == (1, "per_visit", Decimal("6.50"))
    assert (key.free_allowance, key.cap_per_pair, key.voted_on) == (2, Decimal("150.00"), date(2026, 1, 15))
    event = AuditEvent.objects.get(action="clearing.key.voted")
    assert event.actor == admin
    page = client.get(KEY_URL).content.decode()
    assert "v1" in page and "AG du 15 janvier 2026" in page
    # The next vote starts from the key in force.
    assert 'value="6.50"' in page and 'value="150.00"' in page
    client.post(KEY_URL, {**VOTE, "unit_price": "7"})
    assert list(ClearingKey.objects.values_list("version", flat=True).order_by("version")) == [1, 2]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"unit_price": "-5"}, "unit_price", "A price cannot be negative."),
        ({"unit_price": "0"}, "unit_price", "A price per visit or per half-day must be positive."),
        ({"free_allowance": "-1"}, "free_allowance", "This cannot be negative."),
        ({"cap_per_pair": "-10"}, "cap_per_pair", "This cannot be negative."),
        ({"method": "revenue_share"}, "revenue_share_percent", "A revenue share is a percentage"),
        ({"method": "barter"}, "method", "Select a valid choice."),
        ({"voted_on": "15/13/2026"}, "voted_on", "Enter a valid date."),
    ],
)
def test_a_bad_key_is_refused_next_to_its_field_and_writes_nothing(admin, change, field, message):
    answer = client_for(admin).post(KEY_URL, {**VOTE, **change})
    assert answer.status_code == 422
    form = answer.context["form"]
    assert any(message in error for error in form.errors[field]), form.errors
    page = answer.content.decode()
    assert message.split(".")[0] in page
    assert not ClearingKey.objects.exists() and not AuditEvent.objects.exists()


def test_a_negative_price_error_sits_in_the_price_fields_block(admin):
    page = client_for(admin).post(KEY_URL, {**VOTE, "unit_price": "-5"}).content.decode()
    block = page.split('id="id_unit_price"')[0].rsplit('<div class="field', 1)[1]
    assert "field--error" in block.split(">")[0] and "A price cannot be negative." in block


def test_managers_read_the_versions_but_cannot_vote(manager, network):
    client = client_for(manager)
    page = client.get(KEY_URL)
    assert page.status_code == 200
    assert 'id="key-form"' not in page.content.decode()
    assert client.post(KEY_URL, VOTE).status_code == 404
    assert not ClearingKey.objects.exists()


def test_staff_and_strangers_get_a_404(staff, stranger, network):
    for person in (staff, stranger):
        assert client_for(person).get(KEY_URL).status_code == 404


# --- Links to the clearing page ---------------------------------------------------------------------------


def test_the_management_pages_link_to_the_clearing_for_those_who_may_open_it(
    admin, manager, staff, venue, network
):
    clearing = 'href="/gestion/reseau/monscobar/compensation/"'
    for person in (admin, manager):
        client = client_for(person)
        assert clearing in client.get("/gestion/").content.decode()
        assert clearing in client.get(f"/gestion/{venue.slug}/").content.decode()
        assert client.get("/gestion/reseau/monscobar/compensation/").status_code == 200
    client = client_for(staff)
    assert clearing not in client.get("/gestion/").content.decode()
    assert clearing not in client.get(f"/gestion/{venue.slug}/").content.decode()


def test_the_clearing_page_names_the_key_in_force_and_links_to_its_versions(admin, network):
    ClearingKey.objects.create(
        network=network, version=1, method="per_visit", unit_price=Decimal(5), voted_on=date(2025, 12, 1)
    )
    page = client_for(admin).get("/gestion/reseau/monscobar/compensation/?mois=2026-01").content.decode()
    assert "Key in force for this month: v1" in page and f'href="{KEY_URL}"' in page
    before = client_for(admin).get("/gestion/reseau/monscobar/compensation/?mois=2025-11").content.decode()
    assert "No key voted by the end of this month" in before


def test_the_member_menu_leads_to_my_pass(member):
    page = client_for(member).get("/compte/abonnements/").content.decode()
    assert 'href="/compte/pass/"' in page


# --- A plan's Pass Interlieux ----------------------------------------------------------------------------


@pytest.fixture
def third_venue(network):
    return VenueFactory(network=network, name="Mons Fabrica", slug="mons-fabrica")


@pytest.fixture
def offer(venue):
    return plan(venue, "pass-interlieux", name="Pass Interlieux")


def access_url(offer) -> str:
    return f"/gestion/{offer.venue.slug}/formules/{offer.pk}/pass-interlieux/"


ACCESS = {
    "weekdays": ["0", "1", "2", "3", "4"],
    "starts_at": "",
    "ends_at": "",
    "days_per_month": "8",
    "booking_discount_percent": "10",
}


def test_a_manager_gives_a_plan_its_pass_from_the_plans_screen(
    manager, offer, venue, other_venue, third_venue
):
    client = client_for(manager)
    plans = client.get(f"/gestion/{venue.slug}/formules/").content.decode()
    assert f'href="{access_url(offer)}"' in plans
    form = client.get(access_url(offer)).content.decode()
    # The other venues of the network are offered; the plan's own venue is always open to it.
    assert "Baraka" in form and "Mons Fabrica" in form
    assert f'name="host_venues" value="{other_venue.pk}"' in form
    assert f'name="host_venues" value="{venue.pk}"' not in form
    answer = client.post(access_url(offer), {**ACCESS, "host_venues": [other_venue.pk, third_venue.pk]})
    assert answer.status_code == 302
    access = NetworkAccess.objects.get(plan=offer)
    assert access.weekdays == "01234" and access.days_per_month == 8
    assert access.booking_discount_percent == Decimal("10.00")
    assert set(access.host_venues.all()) == {other_venue, third_venue}
    assert AuditEvent.objects.get(action="interlieux.network_access.created").actor == manager
    plans = client.get(f"/gestion/{venue.slug}/formules/").content.decode()
    assert "Baraka, Mons Fabrica" in plans and "8 days a month at each" in plans


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"host_venues": []}, "host_venues"),
        ({"weekdays": []}, "weekdays"),
        ({"days_per_month": "0"}, "days_per_month"),
        ({"booking_discount_percent": "-3"}, "booking_discount_percent"),
        ({"starts_at": "18:00", "ends_at": "09:00"}, "ends_at"),
        ({"starts_at": "09:00"}, "ends_at"),
    ],
)
def test_bad_pass_terms_are_shown_on_their_field_and_write_nothing(
    manager, offer, other_venue, change, field
):
    data = {**ACCESS, "host_venues": [other_venue.pk], **change}
    answer = client_for(manager).post(access_url(offer), data)
    assert answer.status_code == 422
    assert answer.context["form"].errors[field]
    assert not NetworkAccess.objects.exists() and not AuditEvent.objects.exists()


def test_a_venue_outside_the_network_cannot_be_chosen(manager, offer):
    elsewhere = VenueFactory(network=NetworkFactory(slug="ailleurs", name="Ailleurs"), slug="loin")
    answer = client_for(manager).post(access_url(offer), {**ACCESS, "host_venues": [elsewhere.pk]})
    assert answer.status_code == 422 and not NetworkAccess.objects.exists()


def test_the_form_shows_the_terms_in_force_and_the_plan_can_leave_the_network(
    manager, offer, member, other_venue
):
    set_network_access(plan=offer, host_venues=[other_venue], weekdays=[1, 3], days_per_month=4)
    subscribe(offer, member)
    client = client_for(manager)
    page = client.get(access_url(offer)).content.decode()
    assert 'value="4"' in page and "1 subscription in force on this plan." in page
    assert client.post(access_url(offer), {"action": "remove"}).status_code == 302
    assert not NetworkAccess.objects.exists()
    assert AuditEvent.objects.filter(action="interlieux.network_access.removed").count() == 1


def test_another_venues_team_cannot_reach_a_plans_pass(other_manager, member, offer, other_venue):
    for person in (other_manager, member):
        client = client_for(person)
        assert client.get(access_url(offer)).status_code == 404
        assert client.post(access_url(offer), {**ACCESS, "host_venues": [other_venue.pk]}).status_code == 404
    assert not NetworkAccess.objects.exists()
