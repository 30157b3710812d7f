"""Test data builders shared by every test module."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory

from lieux.accounts.models import Organisation, User
from lieux.venues.models import (
    Network,
    OpeningHours,
    Resource,
    ResourceKind,
    ResourcePrice,
    Role,
    VatStatus,
    Venue,
    VenueRole,
)

PARIS = ZoneInfo("Europe/Paris")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = factory.Sequence(lambda n: f"Prénom{n}")
    last_name = "Test"
    password = factory.django.Password("motdepasse-solide")


class NetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Network
        django_get_or_create = ("slug",)

    name = "MONSCOBAR"
    slug = "monscobar"


# Valid SIRETs (Luhn) for test venues.
SIRETS = ["73282932000074", "55208131766522", "44306184100047", "35600000000048"]


class VenueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Venue
        skip_postgeneration_save = True

    network = factory.SubFactory(NetworkFactory)
    slug = factory.Sequence(lambda n: f"lieu-{n}")
    name = factory.Sequence(lambda n: f"Lieu {n}")
    legal_name = factory.LazyAttribute(lambda o: f"Association {o.name}")
    legal_form = "Association loi 1901"
    siret = factory.Sequence(lambda n: SIRETS[n % len(SIRETS)])
    vat_status = VatStatus.LIABLE
    street = "1 rue du Test"
    postcode = "59000"
    city = "Lille"

    @factory.post_generation
    def open_every_day(self, create, extracted, **kwargs):
        """Open 08:00–20:00 every day unless told otherwise, so tests do not depend on the weekday."""
        if create and extracted is not False:
            OpeningHours.objects.bulk_create(
                OpeningHours(venue=self, weekday=d, opens_at=time(8), closes_at=time(20)) for d in range(7)
            )


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource

    venue = factory.SubFactory(VenueFactory)
    slug = factory.Sequence(lambda n: f"salle-{n}")
    name = factory.Sequence(lambda n: f"Salle {n}")
    kind = ResourceKind.ROOM
    capacity = 8
    granularity_minutes = 30


def add_role(user: User, venue: Venue, role: str = Role.MEMBER) -> VenueRole:
    return VenueRole.objects.get_or_create(user=user, venue=venue, role=role)[0]


def add_prices(resource: Resource, **prices: str) -> None:
    """add_prices(room, hour_member="10", hour_public="15", day_public="90")"""
    for key, amount in prices.items():
        unit, audience = key.rsplit("_", 1)
        ResourcePrice.objects.create(
            resource=resource, unit=unit, audience=audience, net_amount=Decimal(amount)
        )


def organisation(name: str = "Coop Test", *members: User) -> Organisation:
    org = Organisation.objects.create(name=name)
    org.members.add(*members)
    return org


def future_day(weeks: int = 1, weekday: int = 1) -> date:
    """A day `weeks` ahead on `weekday` (0 = Monday), far enough to pass advance rules."""
    today = date.today()
    return today + timedelta(days=7 * weeks + (weekday - today.weekday()) % 7)


def at(day: date, hh: int, mm: int = 0, tz: ZoneInfo = PARIS) -> datetime:
    return datetime.combine(day, time(hh, mm)).replace(tzinfo=tz)
