"""booking_facts answers in one statement what the per-question selectors answer one query each; and the
resources kept in memory for API requests never stand in for what guards a booking."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from lieux.billing.models.invoices import PastDueAccess
from lieux.billing.services.drafts import profile_for
from lieux.booking import partners, selectors_facts
from lieux.booking.services import occupancy
from lieux.core.errors import NotFound
from lieux.core.time import UTC
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import BookableBy, Closure, OpeningHours, Resource, Role
from tests import credits_data
from tests.factories import (
    ResourceFactory,
    UserFactory,
    VenueFactory,
    add_prices,
    add_role,
    at,
    future_day,
    organisation,
)

pytestmark = pytest.mark.django_db

DAY = future_day()


@pytest.fixture
def people(venue, other_venue, member, manager):
    staff = UserFactory(email="equipe@example.org")
    add_role(staff, venue, Role.STAFF)
    admin = UserFactory(email="reseau@example.org")
    venue.network.admins.add(admin)
    root = UserFactory(email="racine@example.org", is_superuser=True)
    elsewhere = UserFactory(email="ailleurs-membre@example.org")
    add_role(elsewhere, other_venue)
    return {
        "stranger": UserFactory(email="inconnu@example.org"),
        "member": member,
        "manager": manager,
        "staff": staff,
        "network admin": admin,
        "superuser": root,
        "member elsewhere": elsewhere,
    }


def facts(actor, resource, day=DAY, hour=10, **kwargs):
    return selectors_facts.booking_facts(actor=actor, resource=resource, start=at(day, hour), **kwargs)


@pytest.mark.parametrize(
    "who",
    ["stranger", "member", "manager", "staff", "network admin", "superuser", "member elsewhere"],
)
def test_rights_are_those_the_venue_selectors_give(who, people, venue, room):
    person = people[who]
    found = facts(person, room)
    assert found.staff == venue_selectors.is_staff_of(person, venue.pk)
    assert found.member == venue_selectors.is_member_of(person, venue.pk)


def test_anonymous_visitors_hold_no_right(room):
    found = facts(AnonymousUser(), room)
    assert (found.staff, found.member, found.in_organisation, found.subscribed_elsewhere) == (
        False,
        False,
        False,
        False,
    )


def test_prices_credit_rates_and_units_are_the_resources_own(venue, other_venue, member):
    hall = ResourceFactory(venue=venue, slug="halle")
    parts = [ResourceFactory(venue=venue, slug=f"halle-{n}", parent=hall) for n in range(2)]
    corner = ResourceFactory(venue=venue, slug="halle-0-coin", parent=parts[0])
    add_prices(hall, hour_member="10", hour_public="15.50", day_public="90")
    add_prices(ResourceFactory(venue=venue, slug="autre"), hour_public="99")
    found = facts(member, hall)
    assert sorted(found.prices) == [
        ("day", "public", Decimal("90.00")),
        ("hour", "member", Decimal("10.00")),
        ("hour", "public", Decimal("15.50")),
    ]
    assert list(found.units) == occupancy.units_of(hall) == sorted([corner.pk, parts[1].pk])
    assert facts(member, corner).units == (corner.pk,)
    assert not found.takes_credits
    credits_data.rate(credits_data.credit_type(other_venue), hall)  # another venue's credits: not its own
    assert not facts(member, hall).takes_credits
    credits_data.rate(credits_data.credit_type(venue), hall)
    assert facts(member, hall).takes_credits


def test_the_days_calendar_is_the_venues(member):
    venue = VenueFactory(open_every_day=False)
    room = ResourceFactory(venue=venue)
    OpeningHours.objects.create(venue=venue, weekday=DAY.weekday(), opens_at=time(14), closes_at=time(18))
    OpeningHours.objects.create(venue=venue, weekday=DAY.weekday(), opens_at=time(8), closes_at=time(12))
    next_day = DAY + timedelta(days=1)
    OpeningHours.objects.create(venue=venue, weekday=next_day.weekday(), opens_at=time(9), closes_at=time(10))
    found = facts(member, room)
    assert found.windows == {DAY.weekday(): venue_selectors.opening_windows(venue)[DAY.weekday()]}
    assert found.windows == {DAY.weekday(): [(time(8), time(12)), (time(14), time(18))]}
    assert not found.closed and found.closures == []
    Closure.objects.create(venue=venue, starts_on=DAY - timedelta(days=1), ends_on=DAY)
    assert facts(member, room).closures == [(DAY, DAY)]
    assert not facts(member, room, day=next_day).closed
    assert facts(member, room, day=next_day).windows == {next_day.weekday(): [(time(9), time(10))]}
    assert facts(member, room, day=DAY + timedelta(days=2)).windows == {}  # no hours that weekday


def test_the_day_is_the_venues_local_day(member):
    """10:00 UTC is already midnight, the next day, at a venue in UTC+14."""
    room = ResourceFactory(venue=VenueFactory(timezone="Pacific/Kiritimati"))
    read = selectors_facts.booking_facts
    assert read(actor=member, resource=room, start=at(DAY, 10, tz=UTC)).day == DAY + timedelta(days=1)
    assert read(actor=member, resource=room, start=at(DAY, 9, 59, tz=UTC)).day == DAY


def test_organisation_membership_and_past_due_policy(venue, room, member, stranger):
    coop = organisation("Coop des Lieux", member)
    assert facts(member, room, organisation=coop).in_organisation
    assert not facts(stranger, room, organisation=coop).in_organisation
    assert not facts(member, room).in_organisation
    assert facts(member, room).past_due_policy == PastDueAccess.KEEP  # no billing profile yet
    profile = profile_for(venue)
    profile.past_due_access = PastDueAccess.SUSPEND_BOOKING
    profile.save()
    assert facts(member, room).past_due_policy == PastDueAccess.SUSPEND_BOOKING


def test_a_subscription_elsewhere_counts_while_in_force_that_day(venue, other_venue, stranger, room):
    host_room = ResourceFactory(venue=other_venue)
    plan = credits_data.plan(venue)
    subscription = credits_data.subscription(plan, stranger, DAY - timedelta(days=30), DAY)
    assert facts(stranger, host_room).subscribed_elsewhere
    assert partners.holds_subscription_elsewhere(stranger, other_venue, DAY)
    assert not facts(stranger, room).subscribed_elsewhere  # the subscription's own venue
    assert not partners.holds_subscription_elsewhere(stranger, venue, DAY)
    subscription.ends_on = DAY - timedelta(days=1)
    subscription.save()
    assert not facts(stranger, host_room).subscribed_elsewhere
    assert not partners.holds_subscription_elsewhere(stranger, other_venue, DAY)


def test_a_deleted_resource_is_unknown(member, venue):
    room = ResourceFactory(venue=venue)
    Resource.objects.filter(pk=room.pk).delete()
    with pytest.raises(NotFound):
        facts(member, room)


def test_the_guards_are_read_now_whatever_the_callers_copy_says(member, room):
    stale = Resource.objects.select_related("venue").get(pk=room.pk)
    Resource.objects.filter(pk=room.pk).update(
        is_active=False, bookable_by=BookableBy.STAFF, approval_required=True
    )
    current = facts(member, stale).resource
    assert (current.is_active, current.bookable_by, current.approval_required) == (
        False,
        BookableBy.STAFF,
        True,
    )
    assert stale.is_active and stale.bookable_by == BookableBy.ANYONE  # the caller's copy is left alone


def test_resources_named_in_requests_are_kept_until_changed_here(venue, room):
    selectors_facts.forget_resources()
    found = selectors_facts.resource_by_ref(venue.slug, room.slug)
    assert found is not None and found.pk == room.pk and found.venue == venue
    # Another process's change (no signal here) is not seen until the copy expires…
    Resource.objects.filter(pk=room.pk).update(name="Salle renommée")
    assert selectors_facts.resource_by_ref(venue.slug, room.slug).name == room.name
    # …one made through this process is seen at once.
    room.name = "Salle Ada bis"
    room.save()
    assert selectors_facts.resource_by_ref(venue.slug, room.slug).name == "Salle Ada bis"
    assert selectors_facts.resource_by_ref(venue.slug, "inconnue") is None
    room.is_active = False
    room.save()
    assert selectors_facts.resource_by_ref(venue.slug, room.slug) is None


def test_each_caller_gets_its_own_copy(venue, room):
    first = selectors_facts.resource_by_ref(venue.slug, room.slug)
    first.name = "changé par un appelant"
    assert selectors_facts.resource_by_ref(venue.slug, room.slug).name == room.name
