"""The network's clearing page: who sees it, what a venue's manager sees of the others, and the admin's
actions."""

from datetime import date, datetime

import pytest
from django.urls import reverse

from lieux.billing.models import Invoice
from lieux.interlieux.clearing.models import ClearingStatement, StatementStatus
from lieux.interlieux.clearing.services.run import run_clearing
from lieux.interlieux.clearing.tests.data import MONTH, PARIS, credit_booking, per_visit_key, visits
from lieux.venues.models import Role
from tests.factories import UserFactory, add_role

pytestmark = pytest.mark.django_db

URL = "/gestion/reseau/monscobar/compensation/?mois=2026-01"


@pytest.fixture
def january(network, venue, other_venue, third_venue):
    visits(home=venue, host=other_venue, count=30)
    visits(home=other_venue, host=third_venue, count=17)
    visits(home=third_venue, host=other_venue, count=4)
    per_visit_key(network)
    return network


@pytest.fixture
def admin(network):
    user = UserFactory(email="reseau@example.org")
    network.admins.add(user)
    return user


def test_the_admin_sees_the_whole_matrix_the_statement_and_the_charts(client, january, admin, venue):
    run_clearing(january, MONTH)
    client.force_login(admin)
    page = client.get(URL)
    assert page.status_code == 200
    body = page.content.decode()
    assert reverse("web:network_clearing", args=["monscobar"]) == "/gestion/reseau/monscobar/compensation/"
    assert '<td class="num heat-5">30</td>' in body and '<td class="num heat-3">17</td>' in body
    assert 'class="heat-hidden"' not in body
    assert "v1" in body and "Draft" in body and "the same figures" in body
    assert body.count("<svg") == 2 and "Close the month and issue the invoices" in body


def test_a_venue_manager_sees_only_totals_of_the_other_venues(client, january, venue, manager):
    run_clearing(january, MONTH)
    client.force_login(manager)
    body = client.get(URL).content.decode()
    assert '<td class="num heat-5">30</td>' in body  # their members at Baraka
    assert ">17</td>" not in body and 'class="heat-hidden"' in body  # Baraka's members at Mons Fabrica
    assert "<strong>17</strong>" in body  # Baraka's row total stays visible
    assert "Compute the month" not in body and "Close the month" not in body
    assert '<th scope="row">La Coroutine</th><td class="num">30</td>' in body  # their settlement line
    assert '<th scope="row">Mons Fabrica</th><td class="num">' not in body  # not another venue's


def test_the_statement_shows_the_credits_part_beside_the_visits_part_per_pair(
    client, january, admin, manager, venue, other_venue, third_venue
):
    credit_booking(home=venue, host=other_venue, starts_at=datetime(2026, 1, 8, 10, tzinfo=PARIS))
    credit_booking(
        home=other_venue, host=third_venue, starts_at=datetime(2026, 1, 9, 10, tzinfo=PARIS), quoted="12.50"
    )
    run_clearing(january, MONTH)
    client.force_login(admin)
    body = client.get(URL).content.decode()
    assert "<caption>What each venue owes another before netting" in body
    assert '<th scope="col" class="num">Credits used at a partner</th>' in body
    # Visits: 30 × 5 € = 150 €; credits: 24 €, owed in full.
    assert (
        '<th scope="row">La Coroutine</th><td>Baraka</td><td class="num">150.00\u00a0€</td>'
        '<td class="num">1</td><td class="num">24.00\u00a0€</td><td class="num">174.00\u00a0€</td>'
    ) in body
    assert '<th scope="row">Baraka</th><td>Mons Fabrica</td>' in body
    assert "<dd>2 (36.50\u00a0€, owed in full)</dd>" in body and "the same figures" in body

    client.force_login(manager)  # La Coroutine's: not the pair Baraka → Mons Fabrica
    body = client.get(URL).content.decode()
    assert '<th scope="row">La Coroutine</th><td>Baraka</td>' in body
    assert '<th scope="row">Baraka</th><td>Mons Fabrica</td>' not in body


def test_strangers_and_staff_get_a_404(client, january, venue, stranger):
    staff = UserFactory(email="accueil@example.org")
    add_role(staff, venue, Role.STAFF)
    for user in (stranger, staff):
        client.force_login(user)
        assert client.get(URL).status_code == 404
        assert client.post(URL.replace("?mois=2026-01", "calcul/"), {"month": "2026-01"}).status_code == 404


def test_without_a_statement_the_page_counts_the_visits_as_they_are(client, january, admin):
    client.force_login(admin)
    body = client.get(URL).content.decode()
    assert "No statement for this month yet" in body and '<td class="num heat-5">30</td>' in body


def test_the_admin_computes_then_closes_the_month(client, january, admin, manager):
    client.force_login(manager)
    assert client.post(URL.replace("?mois=2026-01", "calcul/"), {"month": "2026-01"}).status_code == 404
    client.force_login(admin)
    action = URL.replace("?mois=2026-01", "calcul/")
    answer = client.post(action, {"month": "2026-01", "action": "run"})
    assert answer.status_code == 302 and answer["Location"].endswith("?mois=2026-01")
    assert ClearingStatement.objects.get().status == StatementStatus.DRAFT
    client.post(action, {"month": "2026-01", "action": "close"})
    assert ClearingStatement.objects.get().status == StatementStatus.CLOSED
    assert Invoice.objects.count() == 2
    body = client.get(URL).content.decode()
    assert "Closed" in body and Invoice.objects.first().number in body
    refused = client.post(action, {"month": "2026-01", "action": "run"}, follow=True)
    assert "is closed" in refused.content.decode()


def test_a_month_without_a_key_is_refused_with_a_message(client, network, admin, venue):
    client.force_login(admin)
    answer = client.post("/gestion/reseau/monscobar/compensation/calcul/", {"month": "2026-01"}, follow=True)
    assert "no clearing key" in answer.content.decode() and not ClearingStatement.objects.exists()
    assert date(2026, 1, 1) == MONTH
