"""A member books a room in a real browser (Debian's chromium, driven by Playwright) against the live
server, then finds the booking in their list, the room's week and the venue's day.

Full-page screenshots land in test-artifacts/screenshots/ for people to look at.
"""

from datetime import time, timedelta

import pytest

from lieux.booking.services import approve_booking, create_booking
from lieux.venues.models import OpeningHours, ResourceKind
from tests.e2e.conftest import PASSWORD, TIMEOUT_MS, shoot
from tests.factories import (
    ResourceFactory,
    UserFactory,
    VenueFactory,
    add_prices,
    add_role,
    at,
    future_day,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def coroutine(transactional_db):
    """A venue with a realistic week: three rooms, a lunch break, other people's bookings."""
    venue = VenueFactory(
        name="La Coroutine",
        slug="la-coroutine",
        city="Lille",
        street="12 rue des Arts",
        description="Tiers-lieu numérique et associatif du Vieux-Lille.",
        open_every_day=False,
    )
    for weekday in range(5):
        OpeningHours.objects.create(venue=venue, weekday=weekday, opens_at=time(8), closes_at=time(12, 30))
        OpeningHours.objects.create(venue=venue, weekday=weekday, opens_at=time(13, 30), closes_at=time(21))
    OpeningHours.objects.create(venue=venue, weekday=5, opens_at=time(10), closes_at=time(18))
    ada = ResourceFactory(
        venue=venue,
        name="Salle Ada",
        slug="salle-ada",
        capacity=12,
        tags=["vidéoprojecteur", "tableau blanc", "visio"],
        description="Salle de réunion lumineuse au premier étage.",
        color="#2a6f97",
    )
    add_prices(ada, hour_member="12", hour_public="20", day_member="70", day_public="120")
    grace = ResourceFactory(venue=venue, name="Salle Grace", slug="salle-grace", capacity=6, color="#7b4ea3")
    atelier = ResourceFactory(
        venue=venue,
        name="Atelier",
        slug="atelier",
        capacity=20,
        kind=ResourceKind.ROOM,
        color="#2f8f5b",
        approval_required=True,
    )
    ResourceFactory(
        venue=venue, name="Bureau 3", slug="bureau-3", kind=ResourceKind.DESK, capacity=1, color="#b5651d"
    )
    member = UserFactory(email="camille@example.org", first_name="Camille")
    add_role(member, venue)
    other = UserFactory(email="dominique@example.org", first_name="Dominique")
    add_role(other, venue)
    manager = UserFactory(email="sacha@example.org", first_name="Sacha")
    add_role(manager, venue, "manager")

    monday = future_day(weekday=0)
    plan = [
        (other, ada, 0, (9, 0), (10, 30), "Comité de pilotage"),
        (other, ada, 1, (14, 0), (17, 0), "Formation Python"),
        (other, ada, 3, (8, 30), (12, 0), "Atelier fresque du climat"),
        (other, grace, 0, (10, 0), (12, 0), "Entretiens"),
        (other, grace, 1, (9, 0), (11, 30), "Permanence juridique"),
        (other, atelier, 1, (13, 30), (18, 0), "Réparation vélos"),
        (member, grace, 1, (15, 0), (16, 30), "Point équipe"),
        (member, ada, 4, (10, 0), (11, 0), "Rendez-vous partenaire"),
    ]
    for person, resource, day, start, end, title in plan:
        day_date = monday + timedelta(days=day)
        booking = create_booking(
            actor=person,
            resource=resource,
            starts_at=at(day_date, *start),
            ends_at=at(day_date, *end),
            title=title,
        )
        if resource.approval_required and title != "Réparation vélos":
            approve_booking(actor=manager, booking=booking)
    return {"venue": venue, "ada": ada, "member": member, "monday": monday}


def test_a_member_books_a_room_and_finds_it_everywhere(chromium, live_server, coroutine):
    day = coroutine["monday"] + timedelta(days=1)  # a Tuesday in a week or two
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()

    # Log in through the login form.
    page.goto(f"{live_server.url}/comptes/login/")
    page.fill("input[name=login]", coroutine["member"].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("a[href='/reservations/']").is_visible()

    # From the home page to the venue, then to the room.
    page.click("text=La Coroutine")
    page.wait_for_url("**/lieux/la-coroutine/")
    page.click(".resource-list >> text=Salle Ada")
    page.wait_for_url("**/lieux/la-coroutine/salle-ada/")

    # The week of the booking; a click on the free 10:00 cell of Tuesday fills the form in (htmx).
    page.goto(f"{live_server.url}/lieux/la-coroutine/salle-ada/?week={day.isoformat()}")
    cell = page.locator(f"a.cell[href*='date={day.isoformat()}&start=10:00']")
    cell.click()
    page.wait_for_function("document.querySelector('#id_start').value === '10:00'")
    assert "start=" not in page.url  # htmx swapped the form in place; without it the link navigates
    assert page.input_value("#id_date") == day.isoformat()
    assert page.input_value("#id_end") == "11:00"
    page.fill("#id_end", "12:00")
    page.fill("#id_title", "Atelier des communs")
    page.fill("#id_notes", "Avec café et croissants")
    page.click("#booking-form button[type=submit]")

    page.wait_for_url("**/reservations/*/")
    assert "Atelier des communs" in page.inner_text("h1")
    assert page.locator(".message--success").is_visible()

    # It is in "My bookings".
    page.click("nav.site-nav >> a[href='/reservations/']")
    page.wait_for_url("**/reservations/")
    upcoming = page.locator("#upcoming-title + .table-scroll")
    assert "Atelier des communs" in upcoming.inner_text()
    assert page.input_value(".feed input").startswith(f"{live_server.url}/calendrier/")
    shoot(page, "my-bookings.png")

    # It is in the room's week, with its title; other people's bookings show only as reserved.
    page.goto(f"{live_server.url}/lieux/la-coroutine/salle-ada/?week={day.isoformat()}")
    week = page.locator("#week-view")
    assert week.locator(".block--mine", has_text="Atelier des communs").count() == 1
    assert week.locator(".block--busy").count() >= 3
    assert "Formation Python" not in week.inner_text()
    shoot(page, "week-calendar.png")

    # And in the venue's day view, in the Salle Ada column.
    page.goto(f"{live_server.url}/lieux/la-coroutine/?date={day.isoformat()}")
    column = page.locator("section.col", has=page.locator("a.col__name", has_text="Salle Ada"))
    assert column.locator(".block--mine", has_text="Atelier des communs").count() == 1
    assert "Permanence juridique" not in page.locator("#day-view").inner_text()
    shoot(page, "day-view.png")

    context.close()
