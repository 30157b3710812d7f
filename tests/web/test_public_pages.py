"""What anyone can see, and what each person sees of other people's bookings."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse

from lieux.booking.models import Booking
from tests.factories import ResourceFactory, add_prices
from tests.web.conftest import DAY, book, slot


def test_the_home_page_lists_the_venues_with_their_resources_for_anonymous_visitors(
    client, venue, other_venue, room
):
    ResourceFactory(venue=venue, name="Bureau", slug="bureau", is_active=False)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "La Coroutine" in html and "Baraka" in html and "Roubaix" in html
    assert reverse("web:venue", args=["la-coroutine"]) in html
    coroutine = next(v for v in response.context["venues"] if v.pk == venue.pk)
    assert coroutine.resource_count == 1  # the inactive desk is not counted


@override_settings(LANGUAGE_CODE="fr")
def test_the_venue_page_shows_resources_prices_and_opening_hours(client, venue, room):
    room.tags = ["vidéoprojecteur", "tableau blanc"]
    room.save()
    add_prices(room, hour_member="12.50", hour_public="20")
    response = client.get(reverse("web:venue", args=[venue.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Salle Ada" in html and "vidéoprojecteur" in html
    assert "12,50 €" in html and "20,00 €" in html  # French number format by default
    assert "08:00–20:00" in html
    assert 'id="day-view"' in html


def test_unknown_venues_and_resources_are_404(client, venue, room):
    assert client.get("/lieux/nulle-part/").status_code == 404
    assert client.get(f"/lieux/{venue.slug}/nulle-part/").status_code == 404
    room.is_active = False
    room.save()
    assert client.get(f"/lieux/{venue.slug}/{room.slug}/").status_code == 404


def test_a_malformed_or_absurd_date_falls_back_to_today(client, venue, room):
    for value in ["demain", "2026-13-45", "0001-01-01", "9999-12-31"]:
        assert client.get(f"/lieux/{venue.slug}/?date={value}").status_code == 200
        assert client.get(f"/lieux/{venue.slug}/{room.slug}/?week={value}").status_code == 200


def blocks_in(response, resource):
    """(title, start label) of each block in the column of `resource` of a day view."""
    for column_resource, column in response.context["view"].columns:
        if column_resource.pk == resource.pk:
            return [(b.title, b.start_label) for b in column.blocks]
    raise AssertionError("no such column")


def test_the_day_view_shows_titles_only_to_those_who_may_read_them(
    client, as_member, as_manager, as_other_manager, member, other_member, room
):
    book(member, room, (9,), (10,), title="Mon atelier")
    book(other_member, room, (14,), (15,), title="Entretien confidentiel")
    url = f"{reverse('web:venue', args=['la-coroutine'])}?date={DAY.isoformat()}"

    anonymous = client.get(url)
    assert blocks_in(anonymous, room) == [(None, "09:00"), (None, "14:00")]
    assert "Mon atelier" not in anonymous.content.decode()
    assert "Entretien confidentiel" not in anonymous.content.decode()
    assert "Reserved" in anonymous.content.decode()

    mine = as_member.get(url)
    assert blocks_in(mine, room) == [("Mon atelier", "09:00"), (None, "14:00")]
    assert "Entretien confidentiel" not in mine.content.decode()

    staff = as_manager.get(url)
    assert blocks_in(staff, room) == [("Mon atelier", "09:00"), ("Entretien confidentiel", "14:00")]

    # Another venue's manager is nobody special here.
    assert blocks_in(as_other_manager.get(url), room) == [(None, "09:00"), (None, "14:00")]


def test_day_navigation_links_go_to_the_neighbouring_days(client, venue):
    response = client.get(f"/lieux/{venue.slug}/?date={DAY.isoformat()}")
    html = response.content.decode()
    assert f"?date={(DAY - timedelta(days=1)).isoformat()}" in html
    assert f"?date={(DAY + timedelta(days=1)).isoformat()}" in html
    assert f'value="{DAY.isoformat()}"' in html


def test_the_week_view_has_seven_days_with_closed_hours_shaded(client, venue, room):
    response = client.get(f"/lieux/{venue.slug}/{room.slug}/?week={DAY.isoformat()}")
    assert response.status_code == 200
    view = response.context["view"]
    assert [d.weekday() for d in view.days] == list(range(7))
    assert DAY in view.days
    # Open 08:00–20:00 every day: the grid is exactly the opening hours, nothing to shade.
    assert (view.grid.first_hour, view.grid.last_hour) == (8, 20)
    assert all(not column.closed for column in view.columns)
    html = response.content.decode()
    assert f"?week={(view.days[0] + timedelta(days=7)).isoformat()}" in html
    # Free cells link to the form, pre-filled, and work without JavaScript.
    assert f"?date={DAY.isoformat()}&amp;start=10:00#booking-form" in html


def test_anonymous_visitors_see_the_calendar_but_must_log_in_to_book(client, venue, room):
    page = client.get(f"/lieux/{venue.slug}/{room.slug}/")
    assert page.status_code == 200
    assert "Log in to book this resource." in page.content.decode()
    response = client.post(f"/lieux/{venue.slug}/{room.slug}/", slot(title="Réunion"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/reservations/",
        "/reservations/1/",
        "/gestion/",
        "/gestion/la-coroutine/",
        "/lieux/la-coroutine/abonnement/",
    ],
)
def test_personal_pages_ask_anonymous_visitors_to_log_in(client, venue, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@override_settings(LANGUAGE_CODE="fr")
def test_the_language_switch_turns_the_pages_to_english(client, venue):
    french = client.get("/").content.decode()
    assert '<html lang="fr">' in french

    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"

    english = client.get(f"/lieux/{venue.slug}/?date=2026-12-08").content.decode()
    assert '<html lang="en">' in english
    assert "Tuesday 8 December 2026" in english
    french_again = client.get(f"/lieux/{venue.slug}/?date=2026-12-08", HTTP_COOKIE="django_language=fr")
    assert "mardi 8 décembre 2026" in french_again.content.decode().lower()


def test_every_page_offers_a_skip_link_and_labels_its_language_buttons(client, venue):
    html = client.get("/").content.decode()
    assert '<a class="skip-link" href="#main">' in html
    assert 'id="main"' in html
    assert 'name="language" value="en"' in html
