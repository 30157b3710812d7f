"""Giving a plan its network access: checked before anything is written, audited, and read at once by the
access check."""

from datetime import time
from decimal import Decimal

import pytest

from lieux.core.errors import Forbidden, ValidationError
from lieux.core.models import AuditEvent
from lieux.interlieux import rules, selectors
from lieux.interlieux.models import NetworkAccess
from lieux.interlieux.services.network_access import remove_network_access, set_network_access
from lieux.venues.models import Role
from tests.factories import NetworkFactory, UserFactory, VenueFactory, add_role
from tests.interlieux_data import local, plan, subscribe, this_month_day

pytestmark = pytest.mark.django_db


@pytest.fixture
def third_venue(network):
    return VenueFactory(network=network, name="Mons Fabrica", slug="mons-fabrica")


@pytest.fixture
def offer(venue):
    return plan(venue, "pass-interlieux", name="Pass Interlieux")


def test_a_plan_gets_its_access_with_an_audit_row(offer, other_venue, third_venue, manager):
    access = set_network_access(
        plan=offer,
        host_venues=[third_venue, other_venue],
        weekdays=["4", "0", "2"],
        days_per_month=8,
        booking_discount_percent=Decimal("10"),
        actor=manager,
    )
    assert access.weekdays == "024" and access.days_per_month == 8
    assert access.booking_discount_percent == Decimal("10.00")
    assert set(access.host_venues.all()) == {other_venue, third_venue}
    event = AuditEvent.objects.get(action="interlieux.network_access.created")
    assert event.actor == manager and event.venue_id == offer.venue_id
    assert event.data["after"]["host_venue_ids"] == sorted([other_venue.pk, third_venue.pk])
    assert event.data["before"] is None


def test_changing_the_terms_updates_the_row_and_audits_before_and_after(offer, other_venue, third_venue):
    set_network_access(plan=offer, host_venues=[other_venue], days_per_month=8)
    set_network_access(plan=offer, host_venues=[other_venue, third_venue], weekdays=range(5))
    access = NetworkAccess.objects.get()
    assert access.days_per_month is None and access.weekdays == "01234"
    assert access.host_venues.count() == 2
    change = AuditEvent.objects.get(action="interlieux.network_access.changed")
    assert change.data["before"]["days_per_month"] == 8 and change.data["after"]["days_per_month"] is None
    # Saving the same terms again writes no audit row: nothing changed.
    set_network_access(plan=offer, host_venues=[other_venue, third_venue], weekdays=range(5))
    assert AuditEvent.objects.filter(action__startswith="interlieux.network_access").count() == 2


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"host_venues": []}, "host_venues"),
        ({"weekdays": []}, "weekdays"),
        ({"weekdays": ["7"]}, "weekdays"),
        ({"weekdays": ["lundi"]}, "weekdays"),
        ({"starts_at": time(9)}, "ends_at"),
        ({"starts_at": time(18), "ends_at": time(9)}, "ends_at"),
        ({"days_per_month": 0}, "days_per_month"),
        ({"days_per_month": 32}, "days_per_month"),
        ({"booking_discount_percent": Decimal("-1")}, "booking_discount_percent"),
        ({"booking_discount_percent": Decimal("100.5")}, "booking_discount_percent"),
    ],
)
def test_bad_terms_are_refused_on_their_field_and_write_nothing(offer, other_venue, arguments, field):
    values = {"host_venues": [other_venue], **arguments}
    with pytest.raises(ValidationError) as refused:
        set_network_access(plan=offer, **values)
    assert refused.value.extra["field"] == field
    assert not NetworkAccess.objects.exists() and not AuditEvent.objects.exists()


def test_a_venue_of_another_network_cannot_be_a_host(offer):
    elsewhere = VenueFactory(network=NetworkFactory(slug="ailleurs", name="Ailleurs"), slug="loin")
    with pytest.raises(ValidationError) as refused:
        set_network_access(plan=offer, host_venues=[elsewhere])
    assert refused.value.code == "host_outside_network"
    assert not NetworkAccess.objects.exists()


def test_only_the_plans_venue_team_may_set_or_remove_it(offer, other_venue, other_manager, member):
    for person in (other_manager, member):
        with pytest.raises(Forbidden):
            set_network_access(plan=offer, host_venues=[other_venue], actor=person)
    assert not NetworkAccess.objects.exists()
    staff = UserFactory(email="accueil@example.org")
    add_role(staff, offer.venue, Role.STAFF)
    set_network_access(plan=offer, host_venues=[other_venue], actor=staff)
    with pytest.raises(Forbidden):
        remove_network_access(plan=offer, actor=other_manager)
    assert NetworkAccess.objects.exists()


def test_rights_follow_the_plan_at_once_and_removal_closes_the_partner_door(offer, venue, other_venue):
    person = UserFactory(email="voyage@example.org", first_name="Lou")
    subscribe(offer, person)
    # The 15th of this month at ten: the test venues are open every day from eight to eight.
    day = this_month_day(other_venue, 15)
    moment = local(other_venue, day, 10)
    facts = selectors.venue_facts(other_venue, day)

    def decision():
        return rules.decide(selectors.person_facts(person, other_venue, moment), facts, moment)

    assert not decision().allowed
    set_network_access(plan=offer, host_venues=[other_venue], weekdays=[day.weekday()])
    assert decision().reason == rules.OK_PASS
    set_network_access(plan=offer, host_venues=[other_venue], weekdays=[(day.weekday() + 1) % 7])
    assert decision().reason == rules.OUTSIDE_PASS_HOURS
    assert remove_network_access(plan=offer) is True
    assert decision().reason == rules.NOT_IN_PASS
    assert remove_network_access(plan=offer) is False
    assert AuditEvent.objects.filter(action="interlieux.network_access.removed").count() == 1
