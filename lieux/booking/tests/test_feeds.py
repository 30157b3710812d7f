"""Getting, rotating and serving secret calendar URLs."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from icalendar import Calendar

from lieux.booking.errors import BookingInvalid
from lieux.booking.models import CalendarFeed, FeedScope
from lieux.booking.services import create_booking
from lieux.booking.services.feeds import feed_for, rotate_feed
from lieux.core.errors import NotFound
from lieux.core.models import AuditEvent
from lieux.venues.models import BookableBy, VenueRole
from tests.factories import ResourceFactory, at, future_day

DAY = future_day()


def url(feed: CalendarFeed) -> str:
    return reverse("web:calendar_feed", kwargs={"token": feed.token})


def test_feed_for_creates_once_then_returns_the_same_feed(member, room):
    feed = feed_for(owner=member, scope=FeedScope.RESOURCE, resource=room)
    again = feed_for(owner=member, scope=FeedScope.RESOURCE, resource=room)
    assert again.pk == feed.pk and again.token == feed.token
    assert (feed.venue_id, feed.resource_id) == (room.venue_id, room.pk)
    assert CalendarFeed.objects.count() == 1
    (event,) = AuditEvent.objects.filter(action="booking.feed.created")
    assert event.object_id == str(feed.pk) and event.venue_id == room.venue_id
    assert feed.token not in str(event.data)


def test_each_scope_is_its_own_feed(member, room, venue):
    feeds = {
        feed_for(owner=member, scope=FeedScope.PERSON).pk,
        feed_for(owner=member, scope=FeedScope.VENUE, venue=venue).pk,
        feed_for(owner=member, scope=FeedScope.RESOURCE, resource=room).pk,
    }
    assert len(feeds) == 3


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"scope": "everything"}, "invalid_scope"),
        ({"scope": FeedScope.RESOURCE}, "resource_required"),
        ({"scope": FeedScope.VENUE}, "venue_required"),
    ],
)
def test_incomplete_requests_are_refused_without_writing(member, kwargs, code):
    with pytest.raises(BookingInvalid) as caught:
        feed_for(owner=member, **kwargs)
    assert caught.value.code == code
    assert not CalendarFeed.objects.exists() and not AuditEvent.objects.exists()


def test_a_personal_feed_takes_no_venue(member, venue):
    with pytest.raises(BookingInvalid):
        feed_for(owner=member, scope=FeedScope.PERSON, venue=venue)


def test_a_resource_of_another_venue_is_refused(member, room, other_venue):
    with pytest.raises(BookingInvalid) as caught:
        feed_for(owner=member, scope=FeedScope.RESOURCE, resource=room, venue=other_venue)
    assert caught.value.code == "other_venue"


def test_outsiders_cannot_follow_a_venue_they_do_not_belong_to(stranger, other_manager, venue):
    for outsider in (stranger, other_manager):
        with pytest.raises(NotFound):
            feed_for(owner=outsider, scope=FeedScope.VENUE, venue=venue)
    assert not CalendarFeed.objects.exists()


def test_a_members_only_resource_is_hidden_from_outsiders(stranger, venue):
    workshop = ResourceFactory(venue=venue, bookable_by=BookableBy.MEMBERS)
    with pytest.raises(NotFound) as caught:
        feed_for(owner=stranger, scope=FeedScope.RESOURCE, resource=workshop)
    assert caught.value.status == 404


def test_anyone_may_follow_the_free_busy_of_a_resource_anyone_may_book(stranger, member, room, client):
    create_booking(actor=member, resource=room, starts_at=at(DAY, 10), ends_at=at(DAY, 11), title="Secret")
    feed = feed_for(owner=stranger, scope=FeedScope.RESOURCE, resource=room)
    response = client.get(url(feed))
    assert response.status_code == 200
    (event,) = Calendar.from_ical(response.content).events
    with translation.override(stranger.language):
        assert str(event["SUMMARY"]) == gettext("Busy")
    assert b"Secret" not in response.content


def test_the_feed_is_served_without_login_as_text_calendar(member, room, client):
    create_booking(actor=member, resource=room, starts_at=at(DAY, 10), ends_at=at(DAY, 11), title="Atelier")
    feed = feed_for(owner=member, scope=FeedScope.RESOURCE, resource=room)
    response = client.get(url(feed))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="salle-ada-la-coroutine.ics"'
    assert response["Cache-Control"] == "private, max-age=300"
    calendar = Calendar.from_ical(response.content)
    assert [str(e["SUMMARY"]) for e in calendar.events] == ["Atelier"]
    assert calendar.timezones


def test_an_unchanged_feed_answers_304_to_a_client_that_has_it(member, room, client):
    feed = feed_for(owner=member, scope=FeedScope.PERSON)
    first = client.get(url(feed))
    again = client.get(url(feed), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    create_booking(actor=member, resource=room, starts_at=at(DAY, 10), ends_at=at(DAY, 11), title="Nouveau")
    changed = client.get(url(feed), HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and b"Nouveau" in changed.content


@pytest.mark.parametrize("token", ["inconnu", "x" * 65, "a.b"])
def test_an_unknown_token_is_404(db, client, token):
    response = client.get(f"/calendrier/{token}.ics")
    assert response.status_code == 404


def test_feeds_only_answer_reads(member, client):
    feed = feed_for(owner=member, scope=FeedScope.PERSON)
    assert client.post(url(feed)).status_code == 405
    assert client.head(url(feed)).status_code == 200


def test_rotating_revokes_the_old_url(member, client):
    feed = feed_for(owner=member, scope=FeedScope.PERSON)
    old = url(feed)
    assert client.get(old).status_code == 200
    rotated = rotate_feed(owner=member, feed=feed)
    assert rotated.pk == feed.pk and rotated.token != old
    assert client.get(old).status_code == 404
    assert client.get(url(rotated)).status_code == 200
    assert feed_for(owner=member, scope=FeedScope.PERSON).token == rotated.token
    (event,) = AuditEvent.objects.filter(action="booking.feed.rotated")
    assert rotated.token not in str(event.data)


def test_only_the_owner_may_rotate_and_others_learn_nothing(member, manager):
    feed = feed_for(owner=member, scope=FeedScope.PERSON)
    token = feed.token
    with pytest.raises(NotFound):
        rotate_feed(owner=manager, feed=feed)
    feed.refresh_from_db()
    assert feed.token == token
    assert not AuditEvent.objects.filter(action="booking.feed.rotated").exists()


def test_leaving_the_venue_turns_the_venue_feed_off(member, venue, client):
    feed = feed_for(owner=member, scope=FeedScope.VENUE, venue=venue)
    assert client.get(url(feed)).status_code == 200
    VenueRole.objects.filter(user=member, venue=venue).delete()
    assert client.get(url(feed)).status_code == 404


def test_a_deactivated_account_has_no_feed(member, client):
    feed = feed_for(owner=member, scope=FeedScope.PERSON)
    member.is_active = False
    member.save()
    assert client.get(url(feed)).status_code == 404
