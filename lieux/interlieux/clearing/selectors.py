"""Reads of the clearing: the month's visit matrix straight from the visits, the bookings paid with another
venue's credits, statements, and who may see them. A cross-venue app (ARCHITECTURE.md §4.7): network
admins see the whole network; a venue's managers see their own venue's rows and columns in full and only
totals for the others (`matrix_view`)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth

from lieux.booking.models import Booking, Status
from lieux.interlieux.clearing import rules
from lieux.interlieux.clearing.models import ClearingKey, ClearingStatement
from lieux.interlieux.models import Visit
from lieux.venues.models import Network, Role, Venue, VenueRole


def network_venues(network: Network) -> list[Venue]:
    return list(Venue.objects.filter(network=network).order_by("name"))


def visit_matrix(network: Network, month: date) -> list[rules.Cell]:
    """The month's cross-venue visits by (home, host), counted by the database in one GROUP BY.

    A visit counts one half-day, or two when the person stayed longer than the host's half-day
    (`Venue.half_day_hours`, from first to last passage). Visits at one's own home venue are left out."""
    first, last = rules.month_bounds(month)
    hours_by_venue = dict(Venue.objects.filter(network=network).values_list("pk", "half_day_hours"))
    if not hours_by_venue:
        return []
    venues_by_hours: dict[int, list[int]] = defaultdict(list)
    for venue_id, hours in hours_by_venue.items():
        venues_by_hours[hours].append(venue_id)
    # One condition per half-day length in use (usually one): longer stays count as a full day.
    long_stay = Q()
    for hours, venue_ids in venues_by_hours.items():
        long_stay |= Q(venue_id__in=venue_ids, last_seen_at__gt=F("first_seen_at") + timedelta(hours=hours))
    rows = (
        Visit.objects.filter(day__gte=first, day__lte=last, venue_id__in=list(hours_by_venue))
        .exclude(home_venue_id=F("venue_id"))
        .values("home_venue_id", "venue_id")
        .annotate(visits=Count("id"), long_visits=Count("id", filter=long_stay))
        .order_by()
    )
    return [
        rules.Cell(
            home=row["home_venue_id"],
            host=row["venue_id"],
            visits=row["visits"],
            half_days=row["visits"] + row["long_visits"],
        )
        for row in rows
    ]


def credit_bookings(network: Network, month: date) -> list[rules.CreditBooking]:
    """The month's bookings at a venue of the network paid with the credits of another venue of it, that
    cost the host something (rules.value_credits values them).

    A booking belongs to the month its start falls in, in the host's time zone. Only confirmed bookings
    count, as only they are billed (a hold or a request still awaiting approval is no service yet): one
    cancelled, refused or expired is left out, even when its credits stayed spent. A booking cancelled
    after its month was closed leaves that month as it was (a closed month never changes) and, starting in
    that month, counts in no other."""
    first, last = rules.month_bounds(month)
    venues_by_timezone: dict[str, list[int]] = defaultdict(list)
    for venue_id, timezone_name in Venue.objects.filter(network=network).values_list("pk", "timezone"):
        venues_by_timezone[timezone_name].append(venue_id)
    if not venues_by_timezone:
        return []
    network_venue_ids = [pk for ids in venues_by_timezone.values() for pk in ids]
    # One window per time zone in use (usually one): the month from local midnight to local midnight.
    starts_in_month = Q()
    for timezone_name, venue_ids in venues_by_timezone.items():
        tz = ZoneInfo(timezone_name)
        starts_in_month |= Q(
            venue_id__in=venue_ids,
            starts_at__gte=datetime.combine(first, time.min, tzinfo=tz),
            starts_at__lt=datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz),
        )
    rows = (
        Booking.objects.filter(
            starts_in_month,
            status=Status.CONFIRMED,
            credits_venue_id__in=network_venue_ids,
            quoted_net_amount__gt=F("billable_net_amount"),
        )
        .exclude(credits_venue_id=F("venue_id"))
        .values_list("credits_venue_id", "venue_id", "quoted_net_amount", "billable_net_amount")
        .order_by("pk")
    )
    return [
        rules.CreditBooking(home=home, host=host, forgone=quoted - billable)
        for home, host, quoted, billable in rows
        if quoted is not None and billable is not None  # always, as the filter compared them; for mypy
    ]


def current_key(network: Network, month: date) -> ClearingKey | None:
    """The latest version voted by the end of `month`."""
    _first, last = rules.month_bounds(month)
    return ClearingKey.objects.filter(network=network, voted_on__lte=last).order_by("-version").first()


def statements(network: Network) -> QuerySet[ClearingStatement]:
    return ClearingStatement.objects.filter(network=network).select_related("key").order_by("-month")


def statement_for(network: Network, month: date) -> ClearingStatement | None:
    return statements(network).filter(month=month.replace(day=1)).first()


@dataclass(frozen=True)
class MonthVisits:
    month: date
    visits: int  # every visit received
    cross: int  # of which by members of another venue


def visits_per_month(
    network: Network, *, venue: Venue | None, last: date, months: int = 12
) -> list[MonthVisits]:
    """Visits received per month over the `months` up to `last` (all venues of the network, or one)."""
    first = last.replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    _f, end = rules.month_bounds(last)
    visits = Visit.objects.filter(day__gte=first, day__lte=end, venue__network=network)
    if venue is not None:
        visits = visits.filter(venue=venue)
    rows = {
        row["month"]: row
        for row in visits.annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(visits=Count("id"), cross=Count("id", filter=~Q(home_venue_id=F("venue_id"))))
        .order_by()
    }
    result = []
    month = first
    while month <= last:
        row = rows.get(month, {})
        result.append(MonthVisits(month, row.get("visits", 0), row.get("cross", 0)))
        month = (month + timedelta(days=32)).replace(day=1)
    return result


# --- Who sees what -------------------------------------------------------------------------------------


def is_network_admin(user, network: Network) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or network.admins.filter(pk=user.pk).exists())


def managed_venue_ids(user, network: Network) -> set[int]:
    """Venues of `network` that `user` manages (managers only: staff do not see the clearing)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        VenueRole.objects.filter(user=user, role=Role.MANAGER, venue__network=network).values_list(
            "venue_id", flat=True
        )
    )


def networks_visible_to(user) -> QuerySet[Network]:
    if not getattr(user, "is_authenticated", False):
        return Network.objects.none()
    if user.is_superuser:
        return Network.objects.all()
    return Network.objects.filter(
        Q(admins=user) | Q(venues__roles__user=user, venues__roles__role=Role.MANAGER)
    ).distinct()


@dataclass(frozen=True)
class MatrixView:
    """The matrix as a viewer may see it: `cells[(home, host)]` is None where hidden."""

    venues: list[Venue]
    cells: dict[tuple[int, int], int | None]
    row_totals: dict[int, int]
    column_totals: dict[int, int]
    total: int
    highest: int
    full: bool  # the viewer sees every cell


def matrix_view(venues: list[Venue], cells: list[rules.Cell], *, visible: set[int] | None) -> MatrixView:
    """`visible` None: every cell. Otherwise only the rows and columns of those venues; the others' totals
    stay visible (a venue's manager sees how much the network moves, not who visits whom elsewhere)."""
    counts = {(c.home, c.host): c.visits for c in cells}
    row_totals: dict[int, int] = defaultdict(int)
    column_totals: dict[int, int] = defaultdict(int)
    for (home_id, host_id), visits in counts.items():
        row_totals[home_id] += visits
        column_totals[host_id] += visits
    shown: dict[tuple[int, int], int | None] = {}
    for home in venues:
        for host in venues:
            if home.pk == host.pk:
                continue
            seen = visible is None or home.pk in visible or host.pk in visible
            shown[(home.pk, host.pk)] = counts.get((home.pk, host.pk), 0) if seen else None
    highest = max((v for v in shown.values() if v), default=0)
    return MatrixView(
        venues=venues,
        cells=shown,
        row_totals=dict(row_totals),
        column_totals=dict(column_totals),
        total=sum(counts.values()),
        highest=highest,
        full=visible is None,
    )
