"""Reads of the Pass Interlieux: the facts `rules.decide` needs, visits, badges and devices.

Cross-venue by nature (ARCHITECTURE.md §4.7): a person's grants come from every venue of the network, but
what leaves this module for a host venue is a decision and a first name, never the rest.
"""

from dataclasses import replace
from datetime import date, datetime, time

from django.db import connection
from django.db.models import Q, QuerySet

from lieux.accounts.models import User
from lieux.billing.models.invoices import PastDueAccess
from lieux.billing.overdue import access_restriction, may_enter
from lieux.core import prepared as sql
from lieux.interlieux import rules
from lieux.interlieux.models import Badge, DoorDevice, NetworkAccess, Visit
from lieux.memberships.models import Subscription, SubscriptionStatus
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import Role, Venue

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


def door_venue_facts(venue: Venue, day: date) -> rules.VenueFacts:
    """`venue_facts` for a door's check, from this process's copy of the venue's calendar: up to
    `venues.selectors.CALENDAR_CACHE_SECONDS` old when it was changed through another process."""
    windows, closures = venue_selectors.cached_calendar(venue, day)
    return rules.VenueFacts(
        venue_id=venue.pk, name=venue.name, tz=venue.tz, windows=windows, closures=closures
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


# Everything `decide` needs about a person at one venue, in one statement: the person's staff role there,
# whether they already came today, and each subscription in force with its plan, network access (whether
# this venue hosts it, the days already used here this month) and the home venue's past-due policy. The
# derived table of subscriptions is LEFT JOINed to one row, so a person with none still gets their row.
_FACTS_SQL = """
SELECT EXISTS (SELECT 1 FROM venues_venuerole r
                WHERE r.user_id = %(person)s AND r.venue_id = %(venue)s
                  AND r.role IN (%(manager)s, %(staff)s))
       OR EXISTS (SELECT 1 FROM venues_network_admins n JOIN venues_venue w ON w.network_id = n.network_id
                   WHERE n.user_id = %(person)s AND w.id = %(venue)s),
       EXISTS (SELECT 1 FROM interlieux_visit t
                WHERE t.person_id = %(person)s AND t.venue_id = %(venue)s AND t.day = %(day)s),
       g.id, g.venue_id, g.venue_name, g.plan_name, g.payer_organisation_id, g.past_due_access,
       g.access_id, g.weekdays, g.starts_at, g.ends_at, g.days_per_month, g.host_here, g.days_used
  FROM (SELECT 1 AS one) AS one
  LEFT JOIN (
        SELECT s.id, s.venue_id, v.name AS venue_name, p.name AS plan_name, s.payer_organisation_id,
               b.past_due_access, a.id AS access_id, a.weekdays, a.starts_at, a.ends_at, a.days_per_month,
               EXISTS (SELECT 1 FROM interlieux_networkaccess_host_venues h
                        WHERE h.networkaccess_id = a.id AND h.venue_id = %(venue)s) AS host_here,
               (SELECT COUNT(*) FROM interlieux_visit u
                 WHERE u.person_id = %(person)s AND u.venue_id = %(venue)s AND u.subscription_id = s.id
                   AND u.day >= %(first)s AND u.day <= %(last)s) AS days_used
          FROM memberships_subscription s
          JOIN venues_venue v ON v.id = s.venue_id
          JOIN memberships_plan p ON p.id = s.plan_id
          LEFT JOIN interlieux_networkaccess a ON a.plan_id = s.plan_id
          LEFT JOIN billing_billingprofile b ON b.venue_id = s.venue_id
         WHERE s.member_id = %(person)s AND s.status IN (%(status0)s, %(status1)s, %(status2)s, %(status3)s)
           AND s.started_on <= %(day)s AND (s.ends_on IS NULL OR s.ends_on >= %(day)s)
       ) AS g ON 1 = 1
 ORDER BY g.id
"""


def _time(value: time | str | None) -> time | None:
    """SQLite hands raw statements its TIME columns back as text."""
    return time.fromisoformat(value) if isinstance(value, str) else value


def person_facts(person: User, venue: Venue, moment: datetime) -> rules.PersonFacts:
    """Every grant the person holds, as `decide` needs it at `venue` on the local day of `moment`. A pass's
    `host_venue_ids` says whether `venue` is one of its hosts (it holds `venue` or nothing), which is all
    that a decision at `venue` looks at. One SQL statement, plus the invoices of a home venue whose policy
    closes its doors to those who owe it (`suspend_all`), for each such venue."""
    day = local_day(venue, moment)
    first, last = rules.month_bounds(day)
    adapt = connection.ops.adapt_datefield_value
    params = {
        "person": person.pk,
        "venue": venue.pk,
        "day": adapt(day),
        "first": adapt(first),
        "last": adapt(last),
        "manager": Role.MANAGER.value,
        "staff": Role.STAFF.value,
        **{f"status{n}": str(status) for n, status in enumerate(ENTRY_STATUSES)},
    }
    with sql.cursor() as cursor:
        cursor.execute(_FACTS_SQL, params)
        rows = cursor.fetchall()
    is_staff = bool(rows[0][0])
    visited_today = bool(rows[0][1])
    restrictions: dict[tuple[int, int | None], bool] = {}

    def entry_allowed(
        subscription_id: int, home_id: int, organisation_id: int | None, policy: str | None
    ) -> bool:
        # Only a policy that takes entry away needs the invoices read; the others never refuse the door.
        if policy != PastDueAccess.SUSPEND_ALL:
            return True
        key = (home_id, organisation_id)
        if key not in restrictions:
            subscription = Subscription.objects.select_related("venue", "payer_organisation").get(
                pk=subscription_id
            )
            restriction = access_restriction(
                subscription.venue, person, organisation=subscription.payer_organisation, today=day
            )
            restrictions[key] = may_enter(restriction)
        return restrictions[key]

    grants: list[rules.Grant] = []
    for row in rows:
        (_staff, _visited, subscription_id, home_id, home_name, plan_name, organisation_id, policy, access_id,
         weekdays, starts_at, ends_at, days_per_month, host_here, days_used) = row  # fmt: skip
        if subscription_id is None:
            continue  # no subscription in force: the one row of the LEFT JOIN
        member = rules.Grant(
            kind=rules.MEMBER,
            subscription_id=subscription_id,
            home_venue_id=home_id,
            home_venue_name=home_name,
            plan_name=plan_name,
            may_enter=entry_allowed(subscription_id, home_id, organisation_id, policy),
        )
        if home_id == venue.pk or access_id is None:
            grants.append(member)
        if access_id is not None:
            hosted = bool(host_here)
            opens, closes = _time(starts_at), _time(ends_at)
            grants.append(
                replace(
                    member,
                    kind=rules.PASS,
                    host_venue_ids=frozenset({venue.pk}) if hosted else frozenset(),
                    weekdays=NetworkAccess(weekdays=weekdays).weekday_numbers,
                    window=(opens, closes) if opens and closes else None,
                    days_per_month=days_per_month,
                    days_used=int(days_used) if hosted and days_per_month is not None else 0,
                    visited_today=visited_today,
                )
            )
    return rules.PersonFacts(
        person_id=person.pk,
        grants=tuple(grants),
        is_staff_here=bool(person.is_superuser) or is_staff,
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
