"""The page of one booking: who may see it, moving it, cancelling it, and "My bookings"."""

from datetime import timedelta
from unittest import mock

from django.urls import reverse

from lieux.booking.models import Booking, Status
from lieux.core.models import AuditEvent
from tests.factories import ResourceFactory, at
from tests.web.conftest import DAY, book, slot


def test_the_owner_sees_the_details_and_the_calendar_link(as_member, member, room):
    booking = book(member, room, (10,), (11,), title="Atelier", notes="Salle rangée après")
    response = as_member.get(reverse("web:booking", args=[booking.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Atelier" in html and "Salle rangée après" in html and "10:00–11:00" in html
    assert response.context["feed_url"].startswith("http://testserver/calendrier/")
    assert reverse("web:booking_cancel", args=[booking.pk]) in html


def test_another_member_and_another_venues_manager_get_404(
    member, other_member, as_other_manager, room, client
):
    from tests.web.conftest import client_for

    booking = book(member, room, (10,), (11,))
    url = reverse("web:booking", args=[booking.pk])
    assert client_for(other_member).get(url).status_code == 404
    assert as_other_manager.get(url).status_code == 404
    assert as_other_manager.get(reverse("web:booking_cancel", args=[booking.pk])).status_code == 404


def test_the_venues_manager_sees_who_booked(as_manager, member, room):
    booking = book(member, room, (10,), (11,))
    html = as_manager.get(reverse("web:booking", args=[booking.pk])).content.decode()
    assert "membre@example.org" in html


def test_cancelling_asks_for_confirmation_then_frees_the_slot(as_member, member, room):
    booking = book(member, room, (10,), (11,))
    url = reverse("web:booking_cancel", args=[booking.pk])

    confirm = as_member.get(url)
    assert confirm.status_code == 200
    assert Booking.objects.get(pk=booking.pk).status == Status.CONFIRMED  # a GET changes nothing

    response = as_member.post(url, {"reason": "Plus besoin"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Status.CANCELLED and booking.status_reason == "Plus besoin"
    assert not booking.occupancies.filter(is_active=True).exists()
    # Cancelled: the page no longer offers to cancel or move it.
    page = as_member.get(reverse("web:booking", args=[booking.pk]))
    assert page.context["move_form"] is None
    assert as_member.get(url).status_code == 302


def test_a_late_cancellation_is_refused_on_the_form(as_member, member, room):
    booking = book(member, room, (10,), (11,))
    late = at(DAY, 9)  # one hour before, past the 24-hour deadline
    with (
        mock.patch("lieux.booking.services.cancel.now", return_value=late),
        mock.patch("lieux.web.views.now", return_value=late),
    ):
        response = as_member.post(reverse("web:booking_cancel", args=[booking.pk]), {"reason": ""})
    assert response.status_code == 409
    assert "cancellation deadline has passed" in response.context["form"].non_field_errors()[0]
    assert Booking.objects.get(pk=booking.pk).status == Status.CONFIRMED


def test_moving_to_another_time_and_room_of_the_venue(as_member, member, room, venue):
    other_room = ResourceFactory(venue=venue, name="Salle Grace", slug="salle-grace")
    booking = book(member, room, (10,), (11,))
    response = as_member.post(
        reverse("web:booking_move", args=[booking.pk]),
        slot(day=DAY + timedelta(days=1), start="14:00", end="16:00", resource=str(other_room.pk)),
    )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.resource == other_room
    assert (booking.starts_at, booking.ends_at) == (
        at(DAY + timedelta(days=1), 14),
        at(DAY + timedelta(days=1), 16),
    )
    assert AuditEvent.objects.filter(action="booking.booking.moved", object_id=str(booking.pk)).exists()


def test_a_move_onto_a_taken_slot_is_refused_and_leaves_the_booking_as_it_was(
    as_member, member, other_member, room
):
    booking = book(member, room, (10,), (11,))
    book(other_member, room, (14,), (15,))
    response = as_member.post(
        reverse("web:booking_move", args=[booking.pk]),
        slot(start="14:30", end="15:30", resource=str(room.pk)),
    )
    assert response.status_code == 409
    assert "already booked" in response.context["move_form"].non_field_errors()[0]
    booking.refresh_from_db()
    assert (booking.starts_at, booking.ends_at) == (at(DAY, 10), at(DAY, 11))


def test_a_move_cannot_pick_a_resource_of_another_venue(as_member, member, room, other_venue):
    elsewhere = ResourceFactory(venue=other_venue, slug="ailleurs")
    booking = book(member, room, (10,), (11,))
    response = as_member.post(
        reverse("web:booking_move", args=[booking.pk]), slot(resource=str(elsewhere.pk))
    )
    assert response.status_code == 422
    assert "resource" in response.context["move_form"].errors
    assert Booking.objects.get(pk=booking.pk).resource == room


def test_a_move_needs_a_post(as_member, member, room):
    booking = book(member, room, (10,), (11,))
    assert as_member.get(reverse("web:booking_move", args=[booking.pk])).status_code == 405


def test_my_bookings_splits_upcoming_and_past_and_gives_the_personal_feed(as_member, member, room):
    upcoming = book(member, room, (10,), (11,), title="Bientôt")
    past = book(member, room, (14,), (15,), title="Passée")
    Booking.objects.filter(pk=past.pk).update(
        starts_at=at(DAY - timedelta(days=60), 14), ends_at=at(DAY - timedelta(days=60), 15)
    )
    cancelled = book(member, room, (16,), (17,), title="Annulée")
    Booking.objects.filter(pk=cancelled.pk).update(status=Status.CANCELLED)

    response = as_member.get(reverse("web:my_bookings"))
    assert [b.title for b in response.context["upcoming"]] == ["Bientôt", "Annulée"]
    assert [b.title for b in response.context["past"]] == ["Passée"]
    html = response.content.decode()
    assert "badge--cancelled" in html and "badge--confirmed" in html
    feed_url = response.context["feed_url"]
    assert feed_url.startswith("http://testserver/calendrier/") and feed_url.endswith(".ics")
    assert feed_url in html
    assert upcoming.title in html


def test_my_bookings_shows_only_mine_even_to_staff(as_manager, member, manager, room):
    book(member, room, (10,), (11,), title="Pas à moi")
    book(manager, room, (12,), (13,), title="À moi")
    response = as_manager.get(reverse("web:my_bookings"))
    assert [b.title for b in response.context["upcoming"]] == ["À moi"]


def test_the_subscription_pages_give_the_secret_url(as_member, member, venue, room, stranger):
    from tests.web.conftest import client_for

    venue_page = as_member.get(reverse("web:venue_subscribe", args=[venue.slug]))
    assert venue_page.status_code == 200
    assert venue_page.context["feed_url"].startswith("http://testserver/calendrier/")
    resource_page = as_member.get(reverse("web:resource_subscribe", args=[venue.slug, room.slug]))
    assert resource_page.context["feed_url"] != venue_page.context["feed_url"]
    # Someone with no tie to the venue may not follow it.
    assert client_for(stranger).get(reverse("web:venue_subscribe", args=[venue.slug])).status_code == 404
