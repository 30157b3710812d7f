"""The bytes of calendar feeds: parsed back with icalendar and, independently, with `ics`."""

from datetime import date, datetime, timedelta

import ics
import pytest
from django.utils import translation
from django.utils.translation import gettext
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from lieux.booking.ical import escape_text, fold, fold_lines, live_feed, render_feed
from lieux.booking.models import FeedScope
from lieux.booking.rules import Recurrence
from lieux.booking.services import cancel_booking, create_booking, create_series, move_booking
from lieux.booking.services.feeds import feed_for
from lieux.core.time import UTC
from lieux.venues.models import Role
from tests.factories import PARIS, ResourceFactory, UserFactory, add_role, at, future_day

DAY = future_day()


def book(actor, resource, hh, title="Réunion", length=1, **kw):
    return create_booking(
        actor=actor,
        resource=resource,
        starts_at=at(DAY, hh),
        ends_at=at(DAY, hh + length),
        title=title,
        **kw,
    )


def check_rfc5545_lines(body: bytes) -> None:
    """What icalendar tolerates but RFC 5545 forbids: bare LF, lines over 75 octets, unbalanced blocks."""
    assert body.endswith(b"\r\n")
    physical = body[:-2].split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line for line in physical)
    assert all(len(line) <= 75 for line in physical)
    stack = []
    for line in physical:
        if line.startswith(b"BEGIN:"):
            stack.append(line[6:])
        elif line.startswith(b"END:"):
            assert stack.pop() == line[4:]
    assert stack == []


def parse(body: bytes) -> Calendar:
    check_rfc5545_lines(body)
    calendar = Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0"
    assert "Lieux Communs" in str(calendar["PRODID"])
    assert calendar.get("X-WR-CALNAME")
    return calendar


def events_by_uid(calendar: Calendar) -> dict[str, object]:
    return {str(event["UID"]): event for event in calendar.events}


def busy(user) -> str:
    """The label of other people's bookings, in the feed owner's language."""
    with translation.override(user.language):
        return gettext("Busy")


def render(feed, **kw) -> bytes:
    feed.refresh_from_db()
    return render_feed(feed, **kw)


def test_a_feed_has_a_vtimezone_and_wall_times_with_their_tzid(member, room):
    booking = book(member, room, 10, title="Atelier compost")
    calendar = parse(render(feed_for(owner=member, scope=FeedScope.PERSON)))
    assert [tz["TZID"] for tz in calendar.timezones] == ["Europe/Paris"]
    (event,) = calendar.events
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event["DTEND"].params["TZID"] == "Europe/Paris"
    assert event.start == booking.starts_at
    assert event.start.astimezone(PARIS).hour == 10
    assert event.end == booking.ends_at
    assert str(event["SUMMARY"]) == "Atelier compost"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["LOCATION"]) == "Salle Ada, La Coroutine, 1 rue du Test, 59000 Lille"
    assert event["LAST-MODIFIED"].dt == booking.updated_at.replace(microsecond=0)
    assert int(event["SEQUENCE"]) == 0


def first_day_of_march_ahead() -> date:
    today = date.today()
    return date(today.year if today < date(today.year, 3, 1) else today.year + 1, 3, 1)


def test_a_weekly_series_stays_at_18_00_local_across_the_change_to_summer_time(member, venue):
    room = ResourceFactory(venue=venue, name="Salle Grace", max_advance_days=400)
    march = first_day_of_march_ahead()
    first = march + timedelta(
        days=9 + (1 - (march + timedelta(days=9)).weekday()) % 7
    )  # a Tuesday ≥ 10 March
    result = create_series(
        actor=member,
        resource=room,
        starts_at=at(first, 18),
        ends_at=at(first, 20),
        title="Chorale",
        recurrence=Recurrence("weekly", until=date(march.year, 4, 15)),
    )
    assert len(result.booked) >= 5 and not result.skipped
    feed = feed_for(owner=member, scope=FeedScope.RESOURCE, resource=room)
    body = render(
        feed,
        start=datetime(march.year, 3, 1, tzinfo=UTC),
        end=datetime(march.year, 5, 1, tzinfo=UTC),
    )
    events = sorted(parse(body).events, key=lambda e: e.start)
    assert len(events) == len(result.booked)
    assert {(e.start.astimezone(PARIS).hour, e.end.astimezone(PARIS).hour) for e in events} == {(18, 20)}
    assert all(e["DTSTART"].params["TZID"] == "Europe/Paris" for e in events)
    assert b"DTSTART;TZID=Europe/Paris:" in body and b"T180000\r\n" in body
    utc_hours = [e.start.astimezone(UTC).hour for e in events]
    assert utc_hours[0] == 17 and utc_hours[-1] == 16  # the UTC instant moved, the wall time did not

    independent = sorted(ics.Calendar(body.decode()).events, key=lambda e: e.begin)
    assert [e.begin.to("Europe/Paris").hour for e in independent] == [18] * len(events)
    assert [e.begin.datetime for e in independent] == [e.start for e in events]


def test_uids_and_bytes_are_stable_between_renders(member, room):
    book(member, room, 9)
    book(member, room, 14)
    feed = feed_for(owner=member, scope=FeedScope.RESOURCE, resource=room)
    first, second = render(feed), render(feed)
    assert first == second
    uids = set(events_by_uid(parse(first)))
    assert len(uids) == 2
    assert all(uid.startswith("booking-") and uid.endswith("@monscobar") for uid in uids)


def test_a_change_keeps_the_uid_and_raises_the_sequence(member, room, monkeypatch):
    booking = book(member, room, 9)
    feed = feed_for(owner=member, scope=FeedScope.PERSON)
    uid = f"booking-{booking.pk}@monscobar"
    before = events_by_uid(parse(render(feed)))[uid]
    later = booking.created_at + timedelta(minutes=5)
    monkeypatch.setattr("lieux.booking.services.move.now", lambda: later)
    move_booking(actor=member, booking=booking, starts_at=at(DAY, 15), ends_at=at(DAY, 16))
    after = events_by_uid(parse(render(feed)))[uid]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.start.astimezone(PARIS).hour == 15


def test_cancelled_bookings_stay_in_the_feed_marked_cancelled(member, room, monkeypatch):
    kept = book(member, room, 9)
    dropped = book(member, room, 11)
    feed = feed_for(owner=member, scope=FeedScope.PERSON)
    before = events_by_uid(parse(render(feed)))[f"booking-{dropped.pk}@monscobar"]
    later = dropped.created_at + timedelta(minutes=1)
    monkeypatch.setattr("lieux.booking.services.cancel.now", lambda: later)
    cancel_booking(actor=member, booking=dropped)
    events = events_by_uid(parse(render(feed)))
    assert str(events[f"booking-{kept.pk}@monscobar"]["STATUS"]) == "CONFIRMED"
    cancelled = events[f"booking-{dropped.pk}@monscobar"]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["TRANSP"]) == "TRANSPARENT"
    assert int(cancelled["SEQUENCE"]) > int(before["SEQUENCE"])


def test_pending_requests_are_tentative(member, venue):
    cutter = ResourceFactory(venue=venue, name="Découpeuse laser", approval_required=True)
    book(member, cutter, 10)
    (event,) = parse(render(feed_for(owner=member, scope=FeedScope.PERSON))).events
    assert str(event["STATUS"]) == "TENTATIVE"


def test_a_member_sees_only_busy_slots_of_other_members(member, room, venue):
    neighbour = UserFactory(email="voisine@example.org", first_name="Ninon", last_name="Voisin")
    add_role(neighbour, venue)
    mine = book(member, room, 9, title="Mon atelier")
    theirs = book(neighbour, room, 14, title="Entretien confidentiel", notes="Ne pas divulguer")
    body = render(feed_for(owner=member, scope=FeedScope.RESOURCE, resource=room))
    events = events_by_uid(parse(body))
    assert str(events[f"booking-{mine.pk}@monscobar"]["SUMMARY"]) == "Mon atelier"
    other = events[f"booking-{theirs.pk}@monscobar"]
    assert str(other["SUMMARY"]) == busy(member)
    assert "DESCRIPTION" not in other
    assert str(other["CLASS"]) == "PRIVATE"
    for secret in (b"confidentiel", b"divulguer", b"Ninon", b"Voisin", b"voisine@"):
        assert secret not in body
    independent = {e.uid: e for e in ics.Calendar(body.decode()).events}
    assert independent[f"booking-{theirs.pk}@monscobar"].name == busy(member)


def test_the_busy_label_is_in_the_owners_language(member, room, venue):
    neighbour = UserFactory(email="voisine@example.org")
    add_role(neighbour, venue)
    book(neighbour, room, 14, title="Entretien")
    member.language = "en"
    member.save(update_fields=["language"])
    (event,) = parse(render(feed_for(owner=member, scope=FeedScope.RESOURCE, resource=room))).events
    assert str(event["SUMMARY"]) == "Busy"


def test_the_venue_feed_of_a_member_hides_others_too(member, room, venue):
    neighbour = UserFactory(email="voisine@example.org", first_name="Ninon")
    add_role(neighbour, venue)
    book(neighbour, room, 14, title="Entretien confidentiel")
    body = render(feed_for(owner=member, scope=FeedScope.VENUE, venue=venue))
    (event,) = parse(body).events
    assert str(event["SUMMARY"]) == busy(member)
    assert b"confidentiel" not in body and b"Ninon" not in body


def test_staff_see_titles_people_and_notes(member, manager, room, venue):
    booking = book(member, room, 14, title="Entretien", notes="Prévoir le café")
    body = render(feed_for(owner=manager, scope=FeedScope.VENUE, venue=venue))
    event = events_by_uid(parse(body))[f"booking-{booking.pk}@monscobar"]
    assert str(event["SUMMARY"]) == "Entretien"
    description = str(event["DESCRIPTION"])
    assert "Camille" in description and "Prévoir le café" in description
    assert "CLASS" not in event


def test_staff_of_another_venue_see_nothing_but_busy_here(member, room, other_manager, venue):
    book(member, room, 14, title="Entretien")
    add_role(other_manager, venue)  # a member here, manager elsewhere
    body = render(feed_for(owner=other_manager, scope=FeedScope.VENUE, venue=venue))
    (event,) = parse(body).events
    assert str(event["SUMMARY"]) == busy(other_manager)
    assert b"Entretien" not in body and b"Camille" not in body


def test_the_personal_feed_holds_only_ones_own_bookings_across_venues(member, room, other_venue):
    add_role(member, other_venue)
    elsewhere = ResourceFactory(venue=other_venue, name="Cuisine partagée")
    someone = UserFactory()
    add_role(someone, other_venue)
    book(member, room, 9, title="Ici")
    book(member, elsewhere, 10, title="Là-bas")
    book(someone, elsewhere, 14, title="Pas à moi")
    events = parse(render(feed_for(owner=member, scope=FeedScope.PERSON))).events
    assert sorted(str(e["SUMMARY"]) for e in events) == ["Ici", "Là-bas"]


def test_a_hall_feed_shows_its_rooms_and_a_room_feed_shows_the_hall_not_its_sibling(member, venue):
    hall = ResourceFactory(venue=venue, name="Grande halle", slug="halle")
    north = ResourceFactory(venue=venue, name="Halle nord", slug="nord", parent=hall)
    south = ResourceFactory(venue=venue, name="Halle sud", slug="sud", parent=hall)
    whole = book(member, hall, 8, length=2, title="Assemblée")
    part = book(member, north, 12, title="Réunion nord")
    sibling = book(member, south, 12, title="Réunion sud")

    def uids(resource):
        body = render(feed_for(owner=member, scope=FeedScope.RESOURCE, resource=resource))
        return {int(uid.split("-")[1].split("@")[0]) for uid in events_by_uid(parse(body))}

    assert uids(hall) == {whole.pk, part.pk, sibling.pk}
    assert uids(north) == {whole.pk, part.pk}
    assert uids(south) == {whole.pk, sibling.pk}


def test_the_window_is_thirty_days_back_to_a_year_ahead(manager, room):
    today = date.today()
    for offset in (-40, -20, 300, 400):
        day = today + timedelta(days=offset)
        create_booking(
            actor=manager, resource=room, starts_at=at(day, 10), ends_at=at(day, 11), title=f"J{offset:+d}"
        )
    events = parse(render(feed_for(owner=manager, scope=FeedScope.RESOURCE, resource=room))).events
    assert sorted(str(e["SUMMARY"]) for e in events) == ["J+300", "J-20"]


def test_an_empty_feed_is_still_a_valid_calendar_with_its_timezone(member, room):
    calendar = parse(render(feed_for(owner=member, scope=FeedScope.RESOURCE, resource=room)))
    assert calendar.events == []
    assert [tz["TZID"] for tz in calendar.timezones] == ["Europe/Paris"]
    assert str(calendar["X-WR-CALNAME"]) == "Salle Ada — La Coroutine"


def test_awkward_text_survives_both_parsers(member, room):
    title = "Bilan ; budget, 2027 — « coopérative » " + "é" * 60
    notes = "ligne 1\nligne 2\r\nligne 3\x07"
    book(member, room, 9, title=title, notes=notes)
    book(member, room, 11, title="Dossier C:\\Nouveau")
    body = render(feed_for(owner=member, scope=FeedScope.PERSON))
    first, second = sorted(parse(body).events, key=lambda e: e.start)
    assert str(first["SUMMARY"]) == title
    assert str(first["DESCRIPTION"]) == "ligne 1\nligne 2\nligne 3"
    assert str(second["SUMMARY"]) == "Dossier C:\\Nouveau"
    # `ics` 0.7 reads an escaped backslash followed by N as a line break: only the first is compared.
    independent = sorted(ics.Calendar(body.decode()).events, key=lambda e: e.begin)
    assert independent[0].name == title


def test_the_number_of_queries_does_not_grow_with_the_bookings(member, manager, room, venue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    feeds = [
        feed_for(owner=member, scope=FeedScope.RESOURCE, resource=room),
        feed_for(owner=manager, scope=FeedScope.VENUE, venue=venue),
        feed_for(owner=member, scope=FeedScope.PERSON),
    ]

    def queries() -> list[int]:
        counts = []
        for feed in feeds:
            loaded = live_feed(feed.token)
            assert loaded is not None
            with CaptureQueriesContext(connection) as captured:
                render_feed(loaded)
            counts.append(len(captured))
        return counts

    book(member, room, 8)
    few = queries()
    for hh in range(9, 19):
        book(member if hh % 2 else manager, room, hh)
    assert queries() == few
    assert max(few) <= 4


def without_controls(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text if c in "\t\n" or not (ord(c) < 32 or c == "\x7f"))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=300))
def test_escaping_and_folding_round_trip_through_icalendar(text):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//t//FR", "BEGIN:VEVENT", "UID:x"]
    lines += [f"SUMMARY:{escape_text(text)}", "END:VEVENT", "END:VCALENDAR"]
    body = fold_lines(lines).encode()
    check_rfc5545_lines(body)
    (event,) = Calendar.from_ical(body).events
    assert str(event["SUMMARY"]) == without_controls(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=400))
def test_folding_keeps_lines_short_characters_whole_and_escapes_together(text):
    line = f"DESCRIPTION:{escape_text(text)}"
    physical = fold(line).split("\r\n")
    assert all(len(p.encode()) <= 75 for p in physical)
    assert all(p.startswith(" ") for p in physical[1:])
    assert physical[0] + "".join(p[1:] for p in physical[1:]) == line
    for p in physical[:-1]:
        trailing = len(p) - len(p.rstrip("\\"))
        assert trailing % 2 == 0  # no physical line ends in the middle of an escape


@pytest.mark.parametrize("role", [Role.MANAGER, Role.STAFF])
def test_every_staff_role_reads_details(role, member, room, venue):
    colleague = UserFactory()
    add_role(colleague, venue, role)
    book(member, room, 10, title="Atelier vélo")
    (event,) = parse(render(feed_for(owner=colleague, scope=FeedScope.VENUE, venue=venue))).events
    assert str(event["SUMMARY"]) == "Atelier vélo"
