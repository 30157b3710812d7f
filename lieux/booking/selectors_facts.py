"""What a booking write needs to know before it writes, read in one statement; and the resources that API
requests name, kept a minute in memory.

Creating a booking used to ask a dozen questions, one query each: is the person staff of the venue, a
member, in the paying organisation; what the venue's past-due policy is; the resource's prices, credit
rates and bookable units; the venue's hours and closures that day. Compiling and planning those queries
cost far more than running them. `booking_facts` asks them all at once, in a statement prepared on
PostgreSQL (core.prepared).

What guards a booking is read by `booking_facts` at every write, never taken from memory: the person's
rights, the resource's `is_active`, `bookable_by` and `approval_required`, its prices, credit rates and
units, the venue's past-due policy and calendar. `resource_by_ref` keeps the rest a minute: names, the
resource's shape rules (durations, time step, advance window, buffers) and its venue's time zone and
half-day length, which change a few times a year: a change reaches every server process within the
minute.
"""

import copy
import random
import time as clock
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.translation import gettext as _

from lieux.accounts.models import Organisation
from lieux.billing.models.invoices import PastDueAccess
from lieux.core import prepared
from lieux.core.errors import NotFound
from lieux.core.money import cents
from lieux.venues.models import Resource, Role, Venue

Window = tuple[time, time]


@dataclass(frozen=True)
class BookingFacts:
    """Everything `create_booking` checks, as the database had it when asked."""

    resource: Resource  # the caller's, with `is_active`, `bookable_by` and `approval_required` read now
    day: date  # the local day of the booking's start at the venue
    staff: bool  # manages or staffs the venue, administers its network, or is a superuser
    member: bool  # holds any role at the venue
    in_organisation: bool  # belongs to the organisation named as payer (False when none is named)
    past_due_policy: str  # the venue's PastDueAccess (KEEP when it has no billing profile)
    takes_credits: bool  # the resource converts credits of its own venue (memberships CreditRate)
    subscribed_elsewhere: bool  # holds a subscription of another venue in force that day (partners)
    prices: tuple[tuple[str, str, Decimal], ...] = ()  # (unit, audience, net amount)
    units: tuple[int, ...] = ()  # the leaf resources a booking occupies, sorted (rules.blocking_units)
    windows: dict[int, list[Window]] = field(default_factory=dict)  # the day's opening windows
    closed: bool = False  # a closure covers the day

    @property
    def closures(self) -> list[tuple[date, date]]:
        """The day's closures in the shape venues.rules expects."""
        return [(self.day, self.day)] if self.closed else []


# One row per bookable unit, per price and per opening window of the day, each carrying the same facts
# about the person and the resource. Units: the leaves of the resource's tree (itself when it has no
# parts). The first branch of the UNION casts its NULLs so that PostgreSQL gives every column its type.
_FACTS_SQL = """
WITH RECURSIVE tree (id) AS (
    SELECT r.id FROM venues_resource r WHERE r.id = %(resource)s
    UNION ALL
    SELECT c.id FROM venues_resource c JOIN tree t ON c.parent_id = t.id WHERE c.venue_id = %(venue)s
)
SELECT r.is_active, r.bookable_by, r.approval_required,
       EXISTS (SELECT 1 FROM venues_venuerole o
                WHERE o.user_id = %(person)s AND o.venue_id = %(venue)s
                  AND o.role IN (%(manager)s, %(staff)s))
       OR EXISTS (SELECT 1 FROM venues_network_admins n JOIN venues_venue w ON w.network_id = n.network_id
                   WHERE n.user_id = %(person)s AND w.id = %(venue)s),
       EXISTS (SELECT 1 FROM venues_venuerole o WHERE o.user_id = %(person)s AND o.venue_id = %(venue)s),
       EXISTS (SELECT 1 FROM accounts_organisation_members m
                WHERE m.organisation_id = %(organisation)s AND m.user_id = %(person)s),
       (SELECT b.past_due_access FROM billing_billingprofile b WHERE b.venue_id = %(venue)s),
       EXISTS (SELECT 1 FROM memberships_creditrate c JOIN memberships_credittype k ON k.id = c.credit_type_id
                WHERE c.resource_id = %(resource)s AND k.venue_id = %(venue)s),
       EXISTS (SELECT 1 FROM memberships_subscription s
                WHERE s.member_id = %(person)s AND s.venue_id <> %(venue)s AND s.started_on <= %(day)s
                  AND (s.ends_on IS NULL OR s.ends_on >= %(day)s)),
       EXISTS (SELECT 1 FROM venues_closure z
                WHERE z.venue_id = %(venue)s AND z.starts_on <= %(day)s AND z.ends_on >= %(day)s),
       x.unit_id, x.price_unit, x.audience, x.net_amount, x.opens_at, x.closes_at
  FROM venues_resource r
  JOIN (
        SELECT t.id AS unit_id, CAST(NULL AS varchar(10)) AS price_unit,
               CAST(NULL AS varchar(10)) AS audience, CAST(NULL AS numeric(12, 2)) AS net_amount,
               CAST(NULL AS time) AS opens_at, CAST(NULL AS time) AS closes_at
          FROM tree t WHERE NOT EXISTS (SELECT 1 FROM venues_resource c WHERE c.parent_id = t.id)
        UNION ALL
        SELECT NULL, p.unit, p.audience, p.net_amount, NULL, NULL
          FROM venues_resourceprice p WHERE p.resource_id = %(resource)s
        UNION ALL
        SELECT NULL, NULL, NULL, NULL, h.opens_at, h.closes_at
          FROM venues_openinghours h WHERE h.venue_id = %(venue)s AND h.weekday = %(weekday)s
       ) AS x ON 1 = 1
 WHERE r.id = %(resource)s
"""


def _money(value) -> Decimal:
    """SQLite hands raw statements its decimals back as int or float."""
    return value if isinstance(value, Decimal) else cents(Decimal(str(value)))


def _time(value: time | str) -> time:
    """SQLite hands raw statements its TIME columns back as text."""
    return time.fromisoformat(value) if isinstance(value, str) else value


def booking_facts(
    *, actor, resource: Resource, start: datetime, organisation: Organisation | None = None
) -> BookingFacts:
    """The facts of `actor` booking `resource` from `start`, paid by `organisation` when given. Raises
    NotFound (unknown_resource) when the resource no longer exists."""
    venue = resource.venue
    day = start.astimezone(venue.tz).date()
    person = actor.pk if getattr(actor, "is_authenticated", False) else None
    params = {
        "resource": resource.pk,
        "venue": resource.venue_id,
        "person": person,
        "organisation": organisation.pk if organisation is not None else None,
        "day": connection.ops.adapt_datefield_value(day),
        "weekday": day.weekday(),
        "manager": Role.MANAGER.value,
        "staff": Role.STAFF.value,
    }
    with prepared.cursor() as cursor:
        cursor.execute(_FACTS_SQL, params)
        rows = cursor.fetchall()
    if not rows:
        raise NotFound(_("No such resource."), code="unknown_resource")
    (is_active, bookable_by, approval_required, staff, member, in_organisation, policy, takes_credits,
     subscribed_elsewhere, closed) = rows[0][:10]  # fmt: skip
    current = copy.copy(resource)
    current.is_active, current.bookable_by = bool(is_active), bookable_by
    current.approval_required = bool(approval_required)
    units, prices, windows = [], [], []
    for unit_id, price_unit, audience, net_amount, opens_at, closes_at in (row[10:] for row in rows):
        if unit_id is not None:
            units.append(unit_id)
        elif price_unit is not None:
            prices.append((price_unit, audience, _money(net_amount)))
        else:
            windows.append((_time(opens_at), _time(closes_at)))
    return BookingFacts(
        resource=current,
        day=day,
        staff=bool(staff) or bool(getattr(actor, "is_superuser", False) and person is not None),
        member=bool(member),
        in_organisation=bool(in_organisation),
        past_due_policy=policy or PastDueAccess.KEEP,
        takes_credits=bool(takes_credits),
        subscribed_elsewhere=bool(subscribed_elsewhere),
        prices=tuple(prices),
        units=tuple(sorted(units)),
        windows={day.weekday(): sorted(windows)} if windows else {},
        closed=bool(closed),
    )


# --- Resources named in API requests, kept a minute in memory ---------------------------------------------

# A request names its resource `<venue-slug>/<resource-slug>`; each server process keeps the resource and
# its venue that long. A change made through this process drops the copies at once (`_forget_resources`),
# one made elsewhere is seen within the bound. Stale fields are harmless: booking_facts reads again every
# one that guards a booking.
RESOURCE_CACHE_SECONDS = 60.0
_resources: dict[tuple[str, str], tuple[float, Resource]] = {}


def resource_by_ref(venue_slug: str, slug: str) -> Resource | None:
    """The active resource `slug` of the venue `venue_slug`, with its venue, or None: a copy of this
    process's, read again after RESOURCE_CACHE_SECONDS. Unknown names are not remembered."""
    key = (venue_slug, slug)
    at = clock.monotonic()
    hit = _resources.get(key)
    if hit is None or hit[0] <= at:
        resource = (
            Resource.objects.select_related("venue")
            .filter(venue__slug=venue_slug, slug=slug, is_active=True)
            .first()
        )
        if resource is None:
            return None
        if len(_resources) >= 10_000:
            _resources.clear()  # a bound on memory; a network has a few thousand resources
        # Copies read together expire spread over the bound's last fifth.
        hit = _resources[key] = (at + RESOURCE_CACHE_SECONDS * random.uniform(0.8, 1.0), resource)
    return copy.copy(hit[1])


def forget_resources() -> None:
    """Drop this process's copies: the next request reads them again."""
    _resources.clear()


@receiver([post_save, post_delete], sender=Resource, dispatch_uid="booking.resources.resource")
@receiver([post_save, post_delete], sender=Venue, dispatch_uid="booking.resources.venue")
def _forget_resources(sender, **kwargs) -> None:
    # Dropped now and again once the change is committed: a request reading the old row in between would
    # otherwise keep it for a whole RESOURCE_CACHE_SECONDS.
    forget_resources()
    transaction.on_commit(forget_resources)
