"""`lieux demo`: the MONSCOBAR network, loaded through the booking services, twice without change."""

from collections import Counter
from datetime import timedelta
from io import StringIO
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from stdnum.fr import siret

from lieux.accounts.models import Organisation, User
from lieux.billing.models import Invoice, Payment
from lieux.billing.services import chain
from lieux.booking.models import Booking, BookingSeries, Occupancy, Status
from lieux.contributions.models import Allocation, Contribution, LedgerEntry, Payout, Review
from lieux.core.models import AuditEvent
from lieux.core.time import now
from lieux.demo import interlieux as pass_data
from lieux.demo import network as data
from lieux.demo.load import load, logins
from lieux.interlieux import rules as access_rules
from lieux.interlieux.clearing.models import ClearingKey, ClearingStatement, StatementStatus
from lieux.interlieux.clearing.services.explain import recompute
from lieux.interlieux.models import Badge, DoorDevice, NetworkAccess, NetworkKey, Visit
from lieux.interlieux.selectors import venue_facts
from lieux.memberships.models import Plan, Subscription
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
    Plan,
    Subscription,
    Invoice,
    Payment,
    NetworkKey,
    NetworkAccess,
    Badge,
    DoorDevice,
    Visit,
    ClearingKey,
    ClearingStatement,
    Contribution,
    Review,
    LedgerEntry,
    Payout,
    Allocation,
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
    assert "Offers: 13 new plans" in loaded


def months_back(day, months: int):
    index = day.year * 12 + day.month - 1 - months
    return day.replace(year=index // 12, month=index % 12 + 1, day=1)


def test_each_venue_sells_a_pass_interlieux_that_opens_the_two_others(loaded):
    venues = set(Venue.objects.all())
    assert NetworkKey.objects.filter(retired_at__isnull=True).count() == 1
    for venue in venues:
        plan = Plan.objects.get(venue=venue, slug=pass_data.PASS_PLAN, name="Pass Interlieux")
        access = NetworkAccess.objects.get(plan=plan)
        assert set(access.host_venues.all()) == venues - {venue}
        assert access.weekdays == "01234" and access.days_per_month == 8
        assert DoorDevice.objects.filter(venue=venue, revoked_at__isnull=True).count() == 1
    holders = Subscription.objects.filter(plan__slug=pass_data.PASS_PLAN)
    assert holders.count() == 5 and all(s.status == "active" for s in holders)
    assert Badge.objects.filter(revoked_at__isnull=True).count() == len(pass_data.BADGES) == 4
    assert "Pass Interlieux: 5 pass holders, 4 badges, 3 door readers" in loaded
    # A door's token is shown once to whoever registers it: never by the demo.
    assert "ld_" not in loaded


def test_three_months_of_visits_keep_to_the_rules_a_door_applies(loaded):
    visits = list(Visit.objects.select_related("venue", "subscription__plan__network_access"))
    today = min(now().astimezone(v.tz).date() for v in Venue.objects.all())
    first = months_back(today, pass_data.VISIT_MONTHS)
    assert 150 <= len(visits) <= 600
    assert {v.day.replace(day=1) for v in visits} >= {months_back(today, n) for n in (1, 2, 3)}
    assert all(first <= v.day < today for v in visits)
    per_person_day = Counter((v.person_id, v.day) for v in visits)
    assert max(per_person_day.values()) == 1, "one venue a day per person"
    quota = Counter()
    facts = {}
    for visit in visits:
        subscription = visit.subscription
        assert subscription.started_on <= visit.day and subscription.venue_id == visit.home_venue_id
        if visit.venue_id == visit.home_venue_id:
            assert subscription.venue_id == visit.venue_id
        else:
            assert subscription.plan.slug == pass_data.PASS_PLAN and visit.day.weekday() < 5
            quota[(subscription.pk, visit.venue_id, visit.day.replace(day=1))] += 1
        key = (visit.venue_id, visit.day)
        if key not in facts:
            facts[key] = venue_facts(visit.venue, visit.day)
        assert access_rules.is_open(facts[key], visit.first_seen_at), visit
        assert access_rules.is_open(facts[key], visit.last_seen_at), visit
    assert max(quota.values()) <= pass_data.PASS_DAYS_PER_MONTH
    homes = {v.home_venue_id for v in visits if v.home_venue_id != v.venue_id}
    hosts = {v.venue_id for v in visits if v.home_venue_id != v.venue_id}
    assert len(homes) == len(hosts) == 3, "every venue sends and receives pass visitors"


def test_the_months_over_are_cleared_closed_and_invoiced(loaded, client):
    network = Network.objects.get(slug="monscobar")
    key = ClearingKey.objects.get(network=network)
    assert (key.version, key.method, str(key.unit_price)) == (1, "per_visit", "8.00")
    today = now().astimezone(data_tz()).date()
    months = [months_back(today, n) for n in (3, 2, 1)]
    statements = list(ClearingStatement.objects.filter(network=network).order_by("month"))
    assert [s.month for s in statements] == months
    assert all(s.status == StatementStatus.CLOSED and recompute(s).matches for s in statements)
    assert all(s.visits > 0 for s in statements)
    invoices = Invoice.objects.filter(source_key__startswith="clearing:")
    assert invoices.count() == sum(s.transfers.count() for s in statements) > 0
    last = statements[-1]
    # The older months' transfers are paid; the last one's invoices are still due.
    for transfer in last.transfers.all():
        assert not Payment.objects.filter(invoice=transfer.invoice_id).exists()
    for statement in statements[:-1]:
        for transfer in statement.transfers.all():
            assert Payment.objects.filter(invoice=transfer.invoice_id).exists()
    assert list(chain.verify()) == []
    client.force_login(User.objects.get(email=data.ADMIN.email))
    page = client.get("/gestion/reseau/monscobar/compensation/").content.decode()
    assert "Closed" in page and 'class="num heat-' in page and page.count("<svg") == 2


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
