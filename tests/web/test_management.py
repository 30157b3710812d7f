"""The venue team's pages: requests to answer, upcoming bookings, resource rules — and nobody else's."""

from datetime import timedelta

import pytest
from django.urls import reverse

from lieux.booking.models import Booking, Status
from lieux.core.models import AuditEvent
from lieux.venues.models import BookableBy, Resource
from tests.web.conftest import book, client_for

RULES = {
    "min_duration": "60",
    "max_duration": "240",
    "granularity_minutes": "15",
    "max_advance_days": "90",
    "cancellation_deadline": "48",
    "buffer_before": "0",
    "buffer_after": "15",
    "approval_required": "on",
    "bookable_by": BookableBy.MEMBERS,
    "is_active": "on",
}


def test_the_management_home_lists_the_venues_one_runs_with_pending_counts(
    as_manager, member, workshop, other_venue
):
    book(member, workshop, (10,), (11,))
    response = as_manager.get(reverse("web:manage"))
    assert response.status_code == 200
    assert [(v.slug, v.pending_count) for v in response.context["venues"]] == [("la-coroutine", 1)]


def test_people_who_run_no_venue_get_404_on_the_management_home(as_member):
    assert as_member.get(reverse("web:manage")).status_code == 404


def test_the_management_link_shows_only_for_venue_teams(as_member, as_manager, venue):
    assert reverse("web:manage") not in as_member.get("/").content.decode()
    assert reverse("web:manage") in as_manager.get("/").content.decode()


def test_the_venue_page_lists_requests_upcoming_bookings_and_resources(as_manager, member, room, workshop):
    pending = book(member, workshop, (10,), (11,), title="Demande")
    confirmed = book(member, room, (14,), (15,), title="Confirmée")
    response = as_manager.get(reverse("web:manage_venue", args=["la-coroutine"]))
    assert response.status_code == 200
    assert [b.pk for b, _form in response.context["pending"]] == [pending.pk]
    assert [b.pk for b in response.context["upcoming"]] == [confirmed.pk]
    assert {r.slug for r in response.context["resources"]} == {"salle-ada", "atelier"}


def test_the_manager_approves_a_request(as_manager, member, workshop):
    booking = book(member, workshop, (10,), (11,))
    response = as_manager.post(
        reverse("web:manage_review", args=["la-coroutine", booking.pk]), {"action": "approve", "reason": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:manage_venue", args=["la-coroutine"])
    assert Booking.objects.get(pk=booking.pk).status == Status.CONFIRMED


def test_a_refusal_needs_a_reason_which_the_person_then_reads(as_manager, as_member, member, workshop):
    booking = book(member, workshop, (10,), (11,))
    url = reverse("web:manage_review", args=["la-coroutine", booking.pk])

    without = as_manager.post(url, {"action": "refuse", "reason": "  "})
    assert without.status_code == 422
    assert Booking.objects.get(pk=booking.pk).status == Status.PENDING
    assert "Say why" in without.content.decode()

    as_manager.post(url, {"action": "refuse", "reason": "Atelier en travaux"})
    booking.refresh_from_db()
    assert booking.status == Status.REFUSED and booking.status_reason == "Atelier en travaux"
    assert "Atelier en travaux" in as_member.get(reverse("web:booking", args=[booking.pk])).content.decode()


def test_the_booking_page_offers_the_review_and_returns_to_it(as_manager, member, workshop):
    booking = book(member, workshop, (10,), (11,))
    page_url = reverse("web:booking", args=[booking.pk])
    assert as_manager.get(page_url).context["review_form"] is not None
    response = as_manager.post(
        reverse("web:manage_review", args=["la-coroutine", booking.pk]),
        {"action": "approve", "next": page_url},
    )
    assert response["Location"] == page_url
    # An outside address is not followed.
    other = book(member, workshop, (12,), (13,))
    response = as_manager.post(
        reverse("web:manage_review", args=["la-coroutine", other.pk]),
        {"action": "approve", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("web:manage_venue", args=["la-coroutine"])


def test_answering_twice_is_an_error_message_not_a_crash(as_manager, member, workshop):
    booking = book(member, workshop, (10,), (11,))
    url = reverse("web:manage_review", args=["la-coroutine", booking.pk])
    as_manager.post(url, {"action": "approve"})
    response = as_manager.post(url, {"action": "refuse", "reason": "Trop tard"}, follow=True)
    assert response.status_code == 200
    assert "Only a booking awaiting approval" in response.content.decode()
    assert Booking.objects.get(pk=booking.pk).status == Status.CONFIRMED


def test_the_manager_edits_the_rules_of_a_resource(as_manager, manager, room):
    url = reverse("web:manage_resource", args=["la-coroutine", room.slug])
    form = as_manager.get(url).context["form"]
    assert form.initial["min_duration"] == 30 and form.initial["cancellation_deadline"] == 24

    response = as_manager.post(url, RULES)
    assert response.status_code == 302
    room.refresh_from_db()
    assert room.min_duration == timedelta(hours=1) and room.max_duration == timedelta(hours=4)
    assert room.granularity_minutes == 15 and room.cancellation_deadline == timedelta(hours=48)
    assert room.buffer_after == timedelta(minutes=15) and room.approval_required
    assert room.bookable_by == BookableBy.MEMBERS
    assert AuditEvent.objects.filter(action="venues.resource.rules_changed", actor=manager).count() == 1


def test_inconsistent_rules_are_form_errors(as_manager, room):
    url = reverse("web:manage_resource", args=["la-coroutine", room.slug])
    response = as_manager.post(url, {**RULES, "min_duration": "300", "max_duration": "60"})
    assert response.status_code == 422
    assert response.context["form"].errors
    assert Resource.objects.get(pk=room.pk).min_duration == timedelta(minutes=30)
    assert as_manager.post(url, {**RULES, "granularity_minutes": "2"}).status_code == 422


def test_inactive_resources_stay_manageable(as_manager, room):
    as_manager.post(
        reverse("web:manage_resource", args=["la-coroutine", room.slug]), {**RULES, "is_active": ""}
    )
    assert not Resource.objects.get(pk=room.pk).is_active
    assert as_manager.get(reverse("web:manage_resource", args=["la-coroutine", room.slug])).status_code == 200


# --- Another venue's manager ------------------------------------------------------------------------------


@pytest.fixture
def coroutine_data(member, room, workshop):
    return {"pending": book(member, workshop, (10,), (11,)), "confirmed": book(member, room, (14,), (15,))}


def management_urls(data, room):
    pending, confirmed = data["pending"], data["confirmed"]
    return [
        ("get", reverse("web:manage_venue", args=["la-coroutine"]), {}),
        ("get", reverse("web:manage_resource", args=["la-coroutine", room.slug]), {}),
        ("post", reverse("web:manage_resource", args=["la-coroutine", room.slug]), RULES),
        ("post", reverse("web:manage_review", args=["la-coroutine", pending.pk]), {"action": "approve"}),
        (
            "post",
            reverse("web:manage_review", args=["la-coroutine", pending.pk]),
            {"action": "refuse", "reason": "x"},
        ),
        ("get", reverse("web:booking", args=[pending.pk]), {}),
        ("get", reverse("web:booking", args=[confirmed.pk]), {}),
        ("post", reverse("web:booking_move", args=[confirmed.pk]), {"date": "2030-01-01"}),
        ("get", reverse("web:booking_cancel", args=[confirmed.pk]), {}),
        ("post", reverse("web:booking_cancel", args=[confirmed.pk]), {"reason": "x"}),
    ]


def test_another_venues_manager_gets_404_everywhere_and_changes_nothing(
    as_other_manager, coroutine_data, room
):
    audit_before = AuditEvent.objects.count()
    for method, url, data in management_urls(coroutine_data, room):
        response = getattr(as_other_manager, method)(url, data)
        assert response.status_code == 404, (method, url)
    assert AuditEvent.objects.count() == audit_before
    assert Booking.objects.get(pk=coroutine_data["pending"].pk).status == Status.PENDING
    assert Booking.objects.get(pk=coroutine_data["confirmed"].pk).status == Status.CONFIRMED
    assert not Resource.objects.get(pk=room.pk).approval_required


def test_a_plain_member_gets_404_on_the_venues_management(member, coroutine_data, room):
    client = client_for(member)
    for method, url, data in management_urls(coroutine_data, room)[:5]:
        assert getattr(client, method)(url, data).status_code == 404, (method, url)


def test_their_own_venue_works_for_them(as_other_manager, other_venue):
    assert as_other_manager.get(reverse("web:manage_venue", args=[other_venue.slug])).status_code == 200
    assert as_other_manager.get(reverse("web:manage_venue", args=["nulle-part"])).status_code == 404
