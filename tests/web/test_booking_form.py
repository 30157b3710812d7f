"""Booking through the form of a resource page: what is written, and what a refusal looks like."""

from datetime import date, timedelta

from django.urls import reverse

from lieux.booking.models import Booking, BookingSeries, Status
from lieux.core.models import AuditEvent
from tests.factories import at, organisation
from tests.web.conftest import DAY, book, slot

URL = "/lieux/la-coroutine/salle-ada/"


def test_a_member_books_through_the_form_and_lands_on_the_booking(as_member, member, room):
    response = as_member.post(URL, slot(start="10:00", end="11:30", title="Atelier", notes="Café"))

    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:booking", args=[booking.pk])
    assert booking.booked_by == member and booking.resource == room
    assert booking.starts_at == at(DAY, 10) and booking.ends_at == at(DAY, 11, 30)
    assert (booking.title, booking.notes, booking.status) == ("Atelier", "Café", Status.CONFIRMED)
    page = as_member.get(response["Location"])
    assert "Your booking is confirmed." in page.content.decode()
    assert "Atelier" in page.content.decode()


def test_a_request_for_a_resource_that_needs_approval_says_so(as_member, workshop):
    response = as_member.post("/lieux/la-coroutine/atelier/", slot(title="Réparation"), follow=True)
    assert Booking.objects.get().status == Status.PENDING
    assert "the team of La Coroutine will approve it or not" in response.content.decode()


def test_a_taken_slot_is_a_form_error_naming_it_and_writes_nothing(as_member, other_member, room):
    book(other_member, room, (10,), (12,), title="Secret")
    audit_before = AuditEvent.objects.count()

    response = as_member.post(URL, slot(start="11:00", end="12:30", title="Trop tard"))

    assert response.status_code == 409
    errors = response.context["form"].non_field_errors()
    assert len(errors) == 1
    assert "Salle Ada is already booked" in errors[0]
    assert "10:00" in errors[0] and "12:00" in errors[0]
    html = response.content.decode()
    assert 'role="alert"' in html and "Salle Ada is already booked" in html
    assert "Secret" not in html  # the slot is named, not what it is for
    assert Booking.objects.count() == 1
    assert AuditEvent.objects.count() == audit_before
    # What was typed is still there to correct.
    assert response.context["form"]["title"].value() == "Trop tard"


def next_spring_forward() -> date:
    """The last Sunday of March after today: at 02:00 Paris clocks jump to 03:00."""
    year = date.today().year + 1
    last = date(year, 3, 31)
    return last - timedelta(days=(last.weekday() - 6) % 7)


def test_a_time_that_does_not_exist_is_a_form_error_not_a_crash(as_manager, room):
    """Staff may book outside opening hours and far ahead, so only the missing hour stands in the way."""
    sunday = next_spring_forward()
    response = as_manager.post(URL, slot(day=sunday, start="02:30", end="04:00", title="Nuit"))

    assert response.status_code == 422
    form = response.context["form"]
    assert "does not exist" in form.errors["start"][0]
    assert not Booking.objects.exists()
    assert 'aria-invalid="true"' in response.content.decode()


def test_a_broken_rule_is_shown_with_its_reason(as_member, room):
    response = as_member.post(URL, slot(start="10:10", end="11:00", title="Décalé"))
    assert response.status_code == 422
    assert "30-minute step" in response.context["form"].non_field_errors()[0]
    response = as_member.post(URL, slot(start="07:00", end="08:30", title="Trop tôt"))
    assert "outside the opening hours" in response.context["form"].non_field_errors()[0]
    assert not Booking.objects.exists()


def test_missing_fields_are_field_errors(as_member, room):
    response = as_member.post(URL, {"date": "", "start": "10:00", "end": "", "title": ""})
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"date", "end", "title"}
    assert not Booking.objects.exists()


def test_a_weekly_series_books_each_occurrence(as_member, member, room):
    response = as_member.post(
        URL, slot(title="Cours", frequency="weekly", interval="1", count="3", policy="skip"), follow=True
    )
    assert response.status_code == 200
    series = BookingSeries.objects.get()
    starts = list(series.bookings.order_by("starts_at").values_list("starts_at", flat=True))
    assert starts == [at(DAY, 10), at(DAY + timedelta(days=7), 10), at(DAY + timedelta(days=14), 10)]


def test_a_series_reports_the_occurrences_it_could_not_book(as_member, other_member, room):
    book(other_member, room, (10,), (11,), day=DAY + timedelta(days=7))
    response = as_member.post(
        URL, slot(title="Cours", frequency="weekly", count="3", policy="skip"), follow=True
    )
    assert Booking.objects.filter(series__isnull=False).count() == 2
    assert "Not booked on" in response.content.decode()

    refused = as_member.post(
        URL,
        slot(
            day=DAY + timedelta(days=1),
            title="Tout ou rien",
            frequency="daily",
            count="7",
            policy="all_or_nothing",
        ),
    )
    assert refused.status_code == 409
    errors = list(refused.context["form"].non_field_errors())
    assert "nothing was booked" in errors[0]
    assert any("already booked" in e for e in errors[1:])


def test_a_series_needs_an_end(as_member, room):
    response = as_member.post(URL, slot(title="Sans fin", frequency="weekly"))
    assert response.status_code == 422
    assert "count" in response.context["form"].errors
    assert not Booking.objects.exists()


def test_a_member_may_have_their_organisation_pay(as_member, member, room):
    coop = organisation("Coop des Communs", member)
    organisation("Autre Coop")
    page = as_member.get(URL)
    choices = [label for _, label in page.context["form"].fields["organisation"].choices]
    assert choices[1:] == ["Coop des Communs"]
    as_member.post(URL, slot(title="Pour la coop", organisation=str(coop.pk)))
    assert Booking.objects.get().organisation == coop


def test_the_organisation_field_is_absent_for_people_without_one(as_member, room):
    assert "organisation" not in as_member.get(URL).context["form"].fields


def test_a_click_on_a_free_cell_prefills_the_form_with_or_without_htmx(as_member, room):
    query = f"?date={DAY.isoformat()}&start=14:00"
    page = as_member.get(URL + query)
    form = page.context["form"]
    assert form.initial["date"] == DAY
    assert str(form["start"].value()) == "14:00:00"
    assert str(form["end"].value()) == "15:00:00"
    html = page.content.decode()
    assert f'value="{DAY.isoformat()}"' in html and 'value="14:00"' in html and 'value="15:00"' in html

    swapped = as_member.get(URL + query, HTTP_HX_REQUEST="true")
    assert swapped.status_code == 200
    assert 'id="booking-form"' in swapped.content.decode()
    # The week shown is the week of the clicked day.
    assert DAY in swapped.context["view"].days


def test_a_booking_ending_at_midnight_ends_on_the_next_day(as_manager, room):
    as_manager.post(URL, slot(start="22:00", end="00:00", title="Nocturne"))
    booking = Booking.objects.get()
    assert booking.ends_at == at(DAY + timedelta(days=1), 0)
