"""Reads of the Pass Interlieux: the facts `rules.decide` needs, visits, badges and devices.

Cross-venue by nature (ARCHITECTURE.md §4.7): a person's grants come from every venue of the network, but
what leaves this module for a host venue is a decision and a first name, never the rest.
"""

from dataclasses import replace
from datetime import date, datetime

from django.db.models import Q, QuerySet

from lieux.accounts.models import User
from lieux.billing.overdue import access_restriction, may_enter
from lieux.interlieux import rules
from lieux.interlieux.models import Badge, DoorDevice, NetworkAccess, Visit
from lieux.memberships.models import Subscription, SubscriptionStatus
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import Venue

# A paused or ended subscription opens no door; a past-due one does unless the venue's policy says so.
ENTRY_STATUSES = (
    SubscriptionStatus.TRIAL,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.CANCELLING,
    SubscriptionStatus.PAST_DUE,
)


def local_day(venue: Venue, moment: datetime) -> date:
    return moment.astimezone(venue.tz).date()


def venue_facts(venue: Venue, day: date) -> rules.VenueFacts:
    return rules.VenueFacts(
        venue_id=venue.pk,
        name=venue.name,
        tz=venue.tz,
        windows=venue_selectors.opening_windows(venue),
        closures=tuple(venue_selectors.closures_between(venue, day, day)),
    )


def subscriptions_in_force(person: User, day: date) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(member=person, status__in=ENTRY_STATUSES, started_on__lte=day)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .select_related("venue", "plan", "plan__network_access", "payer_organisation")
        .order_by("pk")
    )


def network_access_of(subscription: Subscription) -> NetworkAccess | None:
    try:
        access: NetworkAccess = getattr(subscription.plan, "network_access")  # noqa: B009 - reverse one-to-one, unknown to the type checker
        return access
    except NetworkAccess.DoesNotExist:
        return None


def person_facts(person: User, venue: Venue, moment: datetime) -> rules.PersonFacts:
    """Every grant the person holds, as `decide` needs it at `venue` on the local day of `moment`."""
    day = local_day(venue, moment)
    first, last = rules.month_bounds(day)
    restrictions: dict[tuple[int, int | None], bool] = {}

    def entry_allowed(subscription: Subscription) -> bool:
        key = (subscription.venue_id, subscription.payer_organisation_id)
        if key not in restrictions:
            restriction = access_restriction(
                subscription.venue, person, organisation=subscription.payer_organisation, today=day
            )
            restrictions[key] = may_enter(restriction)
        return restrictions[key]

    visited_today = Visit.objects.filter(person=person, venue=venue, day=day).exists()
    grants: list[rules.Grant] = []
    for subscription in subscriptions_in_force(person, day):
        network = network_access_of(subscription)
        member = rules.Grant(
            kind=rules.MEMBER,
            subscription_id=subscription.pk,
            home_venue_id=subscription.venue_id,
            home_venue_name=subscription.venue.name,
            plan_name=subscription.plan.name,
            may_enter=entry_allowed(subscription),
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
        person_id=person.pk,
        grants=tuple(grants),
        is_staff_here=venue_selectors.is_staff_of(person, venue.pk),
    )


def visits_of(person: User) -> QuerySet[Visit]:
    """A person's own visits, everywhere on the network, newest first."""
    return (
        Visit.objects.filter(person=person)
        .select_related("venue", "home_venue")
        .order_by("-day", "-first_seen_at")
    )


def present_today(venue: Venue, day: date) -> QuerySet[Visit]:
    return (
        Visit.objects.filter(venue=venue, day=day)
        .select_related("person", "home_venue")
        .order_by("-last_seen_at")
    )


def badges_of_venue(venue: Venue) -> QuerySet[Badge]:
    return Badge.objects.filter(issued_by=venue).select_related("person").order_by("revoked_at", "-issued_at")


def devices_of_venue(venue: Venue) -> QuerySet[DoorDevice]:
    return DoorDevice.objects.filter(venue=venue).order_by("revoked_at", "name")


def display_name(person: User, *, host: Venue, home_venue_id: int | None, full: bool = False) -> str:
    """What the host venue may see: a first name, unless the person belongs to the host venue itself."""
    if full or home_venue_id == host.pk:
        return person.get_full_name() or person.first_name
    return person.first_name
