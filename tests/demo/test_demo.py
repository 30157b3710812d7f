"""`lieux demo`: the MONSCOBAR network, loaded through the booking services, twice without change."""

from datetime import timedelta
from io import StringIO
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from stdnum.fr import siret

from lieux.accounts.models import Organisation, User
from lieux.billing.services import chain
from lieux.booking.models import Booking, BookingSeries, Occupancy, Status
from lieux.core.models import AuditEvent
from lieux.core.time import now
from lieux.demo import network as data
from lieux.demo.load import load, logins
from lieux.venues import rules as venue_rules
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import (
    Closure,
    Network,
    OpeningHours,
    Resource,
    ResourceKind,
    ResourcePrice,
    Role,
    Venue,
    VenueRole,
)

MODELS = (
    Network,
    Venue,
    OpeningHours,
    Closure,
    Resource,
    ResourcePrice,
    User,
    VenueRole,
    Organisation,
    Booking,
    BookingSeries,
    Occupancy,
    AuditEvent,
)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def loaded(db):
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def test_the_network_has_three_venues_with_valid_legal_details(loaded):
    net = Network.objects.get(slug="monscobar")
    assert net.name == "MONSCOBAR"
    venues = {v.slug: v for v in Venue.objects.filter(network=net)}
    assert set(venues) == {"baraka", "la-coroutine", "mons-fabrica"}
    assert {v.city for v in venues.values()} == {"Roubaix", "Lille", "Mons-en-Barœul"}
    assert len({v.siret for v in venues.values()}) == 3
    for venue in venues.values():
        assert siret.is_valid(venue.siret), venue.siret
        assert venue.timezone == "Europe/Paris" and venue.half_day_hours == 4
        assert venue.latitude and venue.longitude and venue.phone and venue.email and venue.description
        assert OpeningHours.objects.filter(venue=venue).exists()
        assert Closure.objects.filter(venue=venue, reason__contains="fin d'année").exists()
    assert venues["baraka"].legal_form.startswith("SCIC")
    assert venues["baraka"].vat_status == "liable" and venues["baraka"].vat_number.startswith("FR")


def test_each_venue_has_four_to_eight_priced_resources_and_a_divisible_hall(loaded):
    for venue in Venue.objects.all():
        resources = Resource.objects.filter(venue=venue)
        assert 4 <= resources.count() <= 8, venue
        assert all(r.prices.filter(audience="member").exists() for r in resources)
        assert all(r.prices.filter(audience="public").exists() for r in resources)
    hall = Resource.objects.get(venue__slug="baraka", slug="grande-salle")
    assert hall.children.count() == 2
    assert Resource.objects.filter(kind=ResourceKind.DESK).exists()
    laser = Resource.objects.get(slug="decoupeuse-laser")
    assert laser.kind == ResourceKind.EQUIPMENT and laser.approval_required
    assert laser.bookable_by == "members" and laser.buffer_after.total_seconds() > 0
    assert {"vidéoprojecteur", "écran", "tableau blanc", "visio"} <= {
        tag for r in Resource.objects.all() for tag in r.tags
    }


def test_people_roles_and_the_paying_organisation(loaded):
    admin = User.objects.get(email=data.ADMIN.email)
    assert admin.is_superuser and admin.is_staff
    assert Network.objects.get(slug="monscobar").admins.filter(pk=admin.pk).exists()
    for venue in Venue.objects.all():
        roles = VenueRole.objects.filter(venue=venue)
        assert roles.filter(role=Role.MANAGER).count() == 1
        assert roles.filter(role=Role.STAFF).count() == 1
    members = VenueRole.objects.filter(role=Role.MEMBER).values("user").distinct().count()
    assert 6 <= members <= 10
    for user in User.objects.all():
        assert user.check_password(data.PASSWORD), user.email
    organisation = Organisation.objects.get(name=data.FILATURE)
    assert organisation.members.count() == 2
    payers = set(Booking.objects.filter(organisation=organisation).values_list("booked_by__email", flat=True))
    assert {"yanis@demo.lieux-communs.org", "ines@demo.lieux-communs.org"} & payers


def test_bookings_around_today_never_overlap_and_keep_to_opening_hours(loaded):
    # A resident's fixed desk is booked for the whole subscription, round the clock: checked apart.
    bookings = list(Booking.objects.filter(subscription=None).select_related("venue", "resource"))
    assert len(bookings) >= 60
    moment = now()
    assert any(b.ends_at < moment for b in bookings) and any(b.starts_at > moment for b in bookings)
    assert all(abs((b.starts_at - moment).days) <= 35 for b in bookings)
    assert {Status.CONFIRMED, Status.PENDING, Status.CANCELLED} <= {b.status for b in bookings}
    assert Booking.objects.filter(status=Status.PENDING, resource__slug="decoupeuse-laser").count() >= 2
    assert Booking.objects.filter(status=Status.CANCELLED).count() == 1
    assert BookingSeries.objects.filter(bookings__isnull=False).distinct().count() >= 3
    for b in bookings:
        windows = venue_selectors.opening_windows(b.venue)
        day = b.starts_at.astimezone(b.venue.tz).date()
        closures = venue_selectors.closures_between(b.venue, day, day)
        assert venue_rules.within_opening_hours(b.starts_at, b.ends_at, b.venue.tz, windows, closures), b
    active = Occupancy.objects.filter(is_active=True).values_list("resource_id", "starts_at", "ends_at")
    for (r1, _s1, e1), (r2, s2, _e2) in pairwise(sorted(active)):
        assert r1 != r2 or e1 <= s2


def test_running_it_again_changes_nothing(loaded):
    before = counts()
    report = load(stdout=StringIO())
    assert counts() == before
    assert [line.created for line in report.venues] == [0, 0, 0]


def test_it_prints_one_line_per_venue_and_the_logins(loaded):
    lines = loaded.splitlines()
    for venue in Venue.objects.all():
        (line,) = [line for line in lines if line.startswith(venue.name)]
        resources = Resource.objects.filter(venue=venue).count()
        bookings = venue.bookings.filter(subscription=None).count()  # fixed desks come with the offers
        assert f" {resources} " in line and f" {bookings} " in line
    for login in logins():
        assert login.email in loaded
    assert len(logins()) == 1 + 2 * 3 + len(data.PEOPLE)
    assert data.PASSWORD in loaded


def test_the_offers_are_sold_invoiced_and_paid_through_the_platform(loaded):
    for venue in Venue.objects.all():
        assert venue.plans.filter(is_active=True).count() >= 2
        assert venue.invoices.filter(status="issued", kind="invoice").exists()
        assert venue.invoices.filter(status="issued", kind="credit_note").count() == 1
        assert venue.payments.exists()
    desk = Booking.objects.get(subscription__plan__slug="resident")
    assert desk.resource.slug == "poste-resident-1" and desk.status == Status.CONFIRMED
    assert list(chain.verify()) == [], "the demo invoices keep an intact chain"
    assert "Offers: 10 new plans" in loaded


def test_a_week_of_holidays_skips_its_bookings_without_failing(db, monkeypatch):
    today = now().astimezone(data_tz()).date()
    monday = today - timedelta(days=today.weekday())
    next_week = [(monday + timedelta(days=7 + n), "Jour férié de test") for n in range(7)]
    monkeypatch.setattr(data, "french_public_holidays", lambda year: next_week)
    report = load()
    assert all(line.skipped["venue_closed"] > 0 for line in report.venues)
    local_days = {b.starts_at.astimezone(data_tz()).date() for b in Booking.objects.all()}
    assert not local_days & {day for day, _reason in next_week}
    assert Booking.objects.count() > 30


def data_tz():
    return ZoneInfo("Europe/Paris")
