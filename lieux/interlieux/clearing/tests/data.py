"""Visits, bookings paid with another venue's credits, and keys for the clearing's tests."""

import itertools
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from lieux.accounts.models import User
from lieux.booking.models import Booking, Status
from lieux.interlieux.clearing.services.keys import vote_key
from lieux.interlieux.models import Visit, VisitSource
from lieux.venues.models import Resource, ResourceKind, Venue

PARIS = ZoneInfo("Europe/Paris")
MONTH = date(2026, 1, 1)  # long over, so it can be closed


_people = itertools.count()
_rooms = itertools.count()


def new_people(count: int) -> list[User]:
    return User.objects.bulk_create(User(email=f"visitor{next(_people)}@example.org") for _ in range(count))


def visits(*, home, host, count: int, month: date = MONTH, hours: float = 2) -> list[Visit]:
    """`count` visits of members of `home` at `host` by ten people of their own: person after person, day
    after day (one visit per person, venue and day)."""
    people = new_people(10)
    made = []
    for index in range(count):
        person = people[index % len(people)]
        day = month + timedelta(days=index // len(people))
        arrived = datetime.combine(day, time(9), tzinfo=PARIS)
        made.append(
            Visit(
                person=person,
                venue=host,
                home_venue=home,
                day=day,
                first_seen_at=arrived,
                last_seen_at=arrived + timedelta(hours=hours),
                source=VisitSource.BADGE,
            )
        )
    return Visit.objects.bulk_create(made)


def per_visit_key(network, *, price="5.00", allowance=0, cap=None, voted_on=date(2025, 12, 1)):
    return vote_key(
        network=network,
        method="per_visit",
        unit_price=Decimal(price),
        free_allowance=allowance,
        cap_per_pair=None if cap is None else Decimal(cap),
        voted_on=voted_on,
    )


def credit_booking(
    *,
    home: Venue,
    host: Venue,
    starts_at: datetime,
    quoted: str = "24.00",
    billable: str = "0.00",
    status: str = Status.CONFIRMED,
) -> Booking:
    """A two-hour booking at `host` as booking.services.credits records one paid with `home`'s credits: the
    quoted price after the pass discount and what the host still bills. Written straight to the table so it
    can lie in a month long over, where the booking services refuse to book."""
    return Booking.objects.create(
        venue=host,
        resource=Resource.objects.create(
            venue=host, slug=f"salle-{next(_rooms)}", name="Salle", kind=ResourceKind.ROOM
        ),
        booked_by=new_people(1)[0],
        title="Réunion",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        status=status,
        quoted_net_amount=Decimal(quoted),
        credits_used=Decimal(2),
        billable_net_amount=Decimal(billable),
        partner_venue=home,
        credits_venue=home,
    )
