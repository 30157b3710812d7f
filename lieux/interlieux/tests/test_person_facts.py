"""The person's facts at a door, read in one statement, against the same facts read query by query through
the ORM (the way they were read before): every grant, quota, window, staff role and past-due flag equal,
for many people, venues and days; and the home venue's past-due policy with real invoices."""

import random
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from lieux.accounts.models import User
from lieux.billing.models.invoices import PastDueAccess
from lieux.billing.overdue import access_restriction, may_enter
from lieux.billing.services.drafts import profile_for
from lieux.billing.services.payments import record_payment
from lieux.core.time import now
from lieux.interlieux import rules, selectors
from lieux.interlieux.models import NetworkAccess, Visit, VisitSource
from lieux.interlieux.services.check import check_access
from lieux.interlieux.services.credentials import register_badge
from lieux.memberships.models import Subscription, SubscriptionStatus
from lieux.venues.models import Role, Venue
from lieux.venues.selectors import is_staff_of
from tests import invoice_data
from tests.factories import UserFactory, VenueFactory, add_role
from tests.interlieux_data import door, local, pass_plan, plan, subscribe


def facts_by_orm(person: User, venue: Venue, moment: datetime) -> rules.PersonFacts:
    """The oracle: each fact by its own ORM query, host venues as full sets."""
    day = selectors.local_day(venue, moment)
    first, last = rules.month_bounds(day)
    visited_today = Visit.objects.filter(person=person, venue=venue, day=day).exists()
    subscriptions = (
        Subscription.objects.filter(member=person, status__in=selectors.ENTRY_STATUSES, started_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .select_related("venue", "plan", "payer_organisation")
        .order_by("pk")
    )
    grants = []
    for subscription in subscriptions:
        network = NetworkAccess.objects.filter(plan=subscription.plan).first()
        restriction = access_restriction(
            subscription.venue, person, organisation=subscription.payer_organisation, today=day
        )
        member = rules.Grant(
            kind=rules.MEMBER,
            subscription_id=subscription.pk,
            home_venue_id=subscription.venue_id,
            home_venue_name=subscription.venue.name,
            plan_name=subscription.plan.name,
            may_enter=may_enter(restriction),
        )
        if subscription.venue_id == venue.pk or network is None:
            grants.append(member)
        if network is not None:
            hosts = frozenset(network.host_venues.values_list("pk", flat=True))
            used = 0
            if venue.pk in hosts and network.days_per_month is not None:
                used = Visit.objects.filter(
                    person=person, venue=venue, subscription=subscription, day__range=(first, last)
                ).count()
            window = (network.starts_at, network.ends_at) if network.starts_at and network.ends_at else None
            grants.append(
                replace(
                    member,
                    kind=rules.PASS,
                    host_venue_ids=hosts,
                    weekdays=network.weekday_numbers,
                    window=window,
                    days_per_month=network.days_per_month,
                    days_used=used,
                    visited_today=visited_today,
                )
            )
    return rules.PersonFacts(
        person_id=person.pk, grants=tuple(grants), is_staff_here=is_staff_of(person, venue.pk)
    )


def at_venue(facts: rules.PersonFacts, venue: Venue) -> rules.PersonFacts:
    """What a decision at `venue` can see of the host venues: whether `venue` is one."""
    return replace(
        facts, grants=tuple(replace(g, host_venue_ids=g.host_venue_ids & {venue.pk}) for g in facts.grants)
    )


@pytest.fixture
def scene(network, venue, other_venue):
    """Thirty people with random subscriptions (every status, past and future starts and ends), plans with
    and without network access, quotas, hours and days, visits this month, roles, a network admin, a
    superuser, and venues whose past-due policies differ, some people owing an invoice."""
    rng = random.Random(20261129)
    third = VenueFactory(network=network, name="Mons Fabrica", slug="mons-fabrica")
    venues = [venue, other_venue, third]
    policies = [PastDueAccess.SUSPEND_ALL, PastDueAccess.SUSPEND_BOOKING, PastDueAccess.KEEP]
    for home, policy in zip(venues, policies, strict=True):
        profile = profile_for(home)
        profile.past_due_access = policy
        profile.save()
    offers = [plan(v, f"membre-{n}", name=f"Membre {v.name}") for n, v in enumerate(venues)]
    for n in range(6):
        home = venues[n % 3]
        hosts = rng.sample([v for v in venues if v != home], rng.randint(0, 2))
        hours = rng.choice([None, (time(9), time(12)), (time(14, 30), time(18))])
        offers.append(
            pass_plan(
                home,
                hosts,
                slug=f"pass-{n}",
                days_per_month=rng.choice([None, 1, 2, 8]),
                weekdays="".join(sorted(rng.sample("0123456", rng.randint(1, 7)))),
                hours=hours,
            )
        )
    today = now().date()
    people = []
    for n in range(30):
        person = UserFactory(email=f"p{n}@example.org", first_name=f"P{n}", is_superuser=n == 29)
        people.append(person)
        statuses = [*SubscriptionStatus, SubscriptionStatus.ACTIVE, SubscriptionStatus.ACTIVE]
        for _ in range(rng.choice([0, 1, 1, 2, 2])):
            offer = rng.choice(offers)
            started = today + timedelta(days=rng.choice([-400, -60, -60, -5, 20]))
            ends = rng.choice([None, None, None, today - timedelta(days=3), today + timedelta(days=40)])
            Subscription.objects.create(
                venue=offer.venue,
                plan=offer,
                member=person,
                status=rng.choice(statuses),
                started_on=started,
                ends_on=ends if ends is None or ends >= started else None,
                current_period_start=today.replace(day=1),
                current_period_end=today + timedelta(days=30),
            )
            if rng.random() < 0.4:
                invoice_data.invoice(offer.venue, buyer=person)  # overdue some weeks from now
        if rng.random() < 0.2:
            add_role(person, rng.choice(venues), rng.choice([Role.STAFF, Role.MANAGER, Role.MEMBER]))
        if n == 7:
            network.admins.add(person)
    for person in people:
        for subscription in person.subscriptions.all():
            for back in rng.sample(range(0, 12), rng.randint(0, 4)):
                day = today - timedelta(days=back)
                Visit.objects.get_or_create(
                    person=person,
                    venue=rng.choice(venues),
                    day=day,
                    defaults={
                        "home_venue": subscription.venue,
                        "subscription": subscription,
                        "first_seen_at": now(),
                        "last_seen_at": now(),
                        "source": VisitSource.BADGE,
                    },
                )
    return people, venues


def test_one_statement_reads_the_same_facts_as_the_orm_query_by_query(scene):
    people, venues = scene
    moments = [now(), now() + timedelta(days=70)]  # the invoices are overdue by the second
    compared = 0
    for person in people:
        for venue in venues:
            for moment in moments:
                with CaptureQueriesContext(connection) as captured:
                    fast = selectors.person_facts(person, venue, moment)
                slow = facts_by_orm(person, venue, moment)
                assert fast == at_venue(slow, venue), (person.email, venue.slug, moment)
                # One statement, unless a home venue closes its doors to debtors: then its invoices too.
                if all(g.home_venue_id != venues[0].pk for g in fast.grants):
                    assert len(captured.captured_queries) == 1
                compared += 1
    assert compared == len(people) * len(venues) * len(moments)


def test_the_grants_found_cover_every_refusal_the_rules_know(scene):
    """The scene is not vacuous: across it, the decisions take most of their possible values."""
    people, venues = scene
    reasons = set()
    for person in people:
        for venue in venues:
            for moment in (
                local(venue, date.today(), 10),
                local(venue, date.today() + timedelta(days=70), 15),
            ):
                facts = selectors.person_facts(person, venue, moment)
                reasons.add(rules.decide(facts, selectors.venue_facts(venue, moment.date()), moment).reason)
    assert {
        rules.OK_MEMBER,
        rules.OK_PASS,
        rules.OK_STAFF,
        rules.NO_SUBSCRIPTION,
        rules.NOT_IN_PASS,
        rules.OUTSIDE_PASS_HOURS,
        rules.PAST_DUE,
    } <= reasons


@pytest.fixture
def owing_traveller(venue, other_venue, traveller):
    subscribe(pass_plan(venue, [other_venue], days_per_month=8), traveller)
    register_badge(venue=venue, person=traveller, uid="04A21BC3")
    return invoice_data.invoice(venue, buyer=traveller)


def test_an_overdue_invoice_at_home_closes_the_partner_door_only_under_suspend_all(
    owing_traveller, venue, other_venue
):
    device, _raw = door(other_venue)
    day = owing_traveller.due_on + timedelta(days=40)
    moment = local(other_venue, day, 10)
    profile = profile_for(venue)
    assert check_access(device=device, credential="04A21BC3", at=moment).decision.reason == rules.OK_PASS
    profile.past_due_access = PastDueAccess.SUSPEND_BOOKING
    profile.save()
    assert check_access(device=device, credential="04A21BC3", at=moment).decision.reason == rules.OK_PASS
    profile.past_due_access = PastDueAccess.SUSPEND_ALL
    profile.save()
    refused = check_access(device=device, credential="04A21BC3", at=moment + timedelta(minutes=1))
    assert refused.decision.reason == rules.PAST_DUE and "La Coroutine" in refused.decision.explanation
    # Before its due date (and grace) the same invoice closes nothing.
    early = local(other_venue, owing_traveller.due_on, 10)
    assert check_access(device=device, credential="04A21BC3", at=early).allowed
    record_payment(
        owing_traveller,
        amount=owing_traveller.gross_amount,
        method="transfer",
        received_on=owing_traveller.due_on,
    )
    assert check_access(device=device, credential="04A21BC3", at=moment + timedelta(minutes=2)).allowed


def test_a_pass_window_read_back_from_the_database_is_a_time_on_both_backends(venue, other_venue, traveller):
    subscribe(pass_plan(venue, [other_venue], hours=(time(9, 30), time(12))), traveller)
    day = now().astimezone(other_venue.tz).date()
    facts = selectors.person_facts(traveller, other_venue, local(other_venue, day, 10))
    (grant,) = facts.grants
    assert grant.window == (time(9, 30), time(12)) and grant.host_venue_ids == {other_venue.pk}
    venue_facts = selectors.venue_facts(other_venue, day)
    assert rules.decide(facts, venue_facts, local(other_venue, day, 10)).reason == rules.OK_PASS
    assert rules.decide(facts, venue_facts, local(other_venue, day, 13)).reason == rules.OUTSIDE_PASS_HOURS
