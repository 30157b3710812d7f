"""Test data for the Pass Interlieux: the network key, pass plans, subscriptions, badges and doors."""

from datetime import date, datetime, time, timedelta

from lieux.accounts.models import User
from lieux.core.time import now
from lieux.interlieux.models import DoorDevice, NetworkAccess, NetworkKey
from lieux.interlieux.services.devices import register_door_device
from lieux.interlieux.services.keys import create_network_key
from lieux.memberships.models import Plan, PlanKind, Subscription, SubscriptionStatus
from lieux.venues.models import Network, Venue


def network_key(network: Network) -> NetworkKey:
    return create_network_key(network=network)


def plan(venue: Venue, slug: str = "coworking", **fields) -> Plan:
    fields.setdefault("name", slug.capitalize())
    fields.setdefault("kind", PlanKind.SUBSCRIPTION)
    fields.setdefault("interval", "month")
    return Plan.objects.create(venue=venue, slug=slug, **fields)


def pass_plan(
    home: Venue,
    hosts: list[Venue],
    *,
    slug: str = "pass",
    days_per_month: int | None = None,
    weekdays: str = "0123456",
    hours: tuple[time, time] | None = None,
) -> Plan:
    offer = plan(home, slug, name="Pass Interlieux")
    access = NetworkAccess.objects.create(
        plan=offer,
        weekdays=weekdays,
        days_per_month=days_per_month,
        starts_at=hours[0] if hours else None,
        ends_at=hours[1] if hours else None,
    )
    access.host_venues.set([home, *hosts])
    return offer


def subscribe(
    offer: Plan, person: User, *, status: str = SubscriptionStatus.ACTIVE, **fields
) -> Subscription:
    today = now().date()
    return Subscription.objects.create(
        venue=offer.venue,
        plan=offer,
        member=person,
        status=status,
        started_on=today - timedelta(days=60),
        current_period_start=today.replace(day=1),
        current_period_end=today + timedelta(days=30),
        **fields,
    )


def door(venue: Venue, name: str = "Porte principale") -> tuple[DoorDevice, str]:
    return register_door_device(venue=venue, name=name)


def local(venue: Venue, day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm)).replace(tzinfo=venue.tz)


def this_month_day(venue: Venue, day_of_month: int = 15) -> date:
    return now().astimezone(venue.tz).date().replace(day=day_of_month)
