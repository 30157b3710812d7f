"""Load the demo's Pass Interlieux (`interlieux.py`) once the offers are sold: the network's signing key, the
network access of each venue's "Pass Interlieux" plan, badges, a door reader per venue, three months of
visits, the clearing key and the closed statements of the months over.

Idempotent like the rest of the demo: each piece is looked up by its natural key (a plan's access, a
badge's UID, a door's name, a person's visit of a day, a month's statement) and added only when missing.
Keys, accesses, badges, doors and statements go through the platform's services; past visits are written
in one batch, drawn so that each one is a visit a door would have let in.
"""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TextIO

from django.db import transaction
from django.utils.translation import gettext as _

from lieux.accounts.models import User
from lieux.billing.models import PaymentMethod
from lieux.billing.services.payments import balance, record_payment
from lieux.core.errors import DomainError
from lieux.core.time import NonExistentLocalTime, localize
from lieux.demo import interlieux as data
from lieux.demo.load_offers import DEMO_REFERENCE, months_before
from lieux.interlieux.clearing import selectors as clearing_selectors
from lieux.interlieux.clearing.models import ClearingKey, ClearingStatement
from lieux.interlieux.clearing.services.keys import vote_key
from lieux.interlieux.clearing.services.run import run_clearing
from lieux.interlieux.models import Badge, DoorDevice, NetworkAccess, NetworkKey, Visit, VisitSource
from lieux.interlieux.selectors import ENTRY_STATUSES
from lieux.interlieux.services.credentials import register_badge
from lieux.interlieux.services.devices import register_door_device
from lieux.interlieux.services.keys import create_network_key
from lieux.interlieux.services.network_access import set_network_access
from lieux.memberships.models import Plan, Subscription
from lieux.memberships.services.credits import local_today
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import Network, Venue


@dataclass
class PassReport:
    holders: int = 0
    badges: int = 0
    doors: int = 0
    visits: int = 0
    new_visits: int = 0
    closed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Opening:
    """A venue's week and closures over the demo's months, read once."""

    venue: Venue
    windows: dict[int, list[tuple[time, time]]]
    closures: list[tuple[date, date]]

    def day_windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The opening windows of `day` in wall time; none on a closure."""
        if any(first <= day <= last for first, last in self.closures):
            return []
        return [
            (datetime.combine(day, opens), datetime.combine(day, closes))
            for opens, closes in self.windows.get(day.weekday(), [])
        ]


def _in_force(subscription: Subscription, day: date) -> bool:
    return subscription.started_on <= day and (subscription.ends_on is None or subscription.ends_on >= day)


class _Rights:
    """Which subscription lets a person in at a venue on a day, the way the access check decides it: a
    subscription at the venue first (it spends no pass day), then a pass that includes the venue, on its
    week days, within its monthly quota."""

    def __init__(self, people: list[User]) -> None:
        self.subscriptions: dict[int, list[Subscription]] = {}
        for subscription in (
            Subscription.objects.filter(member__in=people, status__in=ENTRY_STATUSES)
            .select_related("plan")
            .order_by("pk")
        ):
            self.subscriptions.setdefault(subscription.member_id, []).append(subscription)
        self.accesses = {
            access.plan_id: (access, frozenset(access.host_venues.values_list("pk", flat=True)))
            for access in NetworkAccess.objects.filter(
                plan_id__in=[s.plan_id for subs in self.subscriptions.values() for s in subs]
            )
        }
        self.used: Counter[tuple[int, int, date]] = Counter()

    def grant(self, person: User, venue: Venue, day: date) -> Subscription | None:
        held = [s for s in self.subscriptions.get(person.pk, []) if _in_force(s, day)]
        for subscription in held:
            if subscription.venue_id == venue.pk:
                return subscription
        for subscription in held:
            found = self.accesses.get(subscription.plan_id)
            if found is None:
                continue
            access, hosts = found
            month = day.replace(day=1)
            if (
                venue.pk in hosts
                and day.weekday() in access.weekday_numbers
                and (
                    access.days_per_month is None
                    or self.used[(subscription.pk, venue.pk, month)] < access.days_per_month
                )
            ):
                self.used[(subscription.pk, venue.pk, month)] += 1
                return subscription
        return None


def _moments(opening: _Opening, day: date, rng: random.Random) -> tuple[datetime, datetime] | None:
    """A first and a last passage while the venue is open: the doors are shut over a lunch break."""
    windows = opening.day_windows(day)
    if not windows:
        return None
    arrival = windows[0][0] + timedelta(minutes=rng.randrange(0, 100, 5))
    departure = arrival + timedelta(minutes=rng.randrange(90, 480, 15))
    # Leaving after a window closed means leaving as it closed.
    departure = max(
        (min(departure, closes - timedelta(minutes=5)) for opens, closes in windows if opens <= departure),
        default=arrival,
    )
    if not windows[0][0] <= arrival < windows[0][1] or departure <= arrival:
        return None
    try:
        return localize(arrival, opening.venue.tz), localize(departure, opening.venue.tz)
    except NonExistentLocalTime:
        return None


def draw_visits(venues: dict[str, Venue], first: date, last: date) -> list[Visit]:
    """The demo's visits from `first` to `last`, the same ones on every run. A person comes to at most one
    venue a day; a day is drawn for each of their habits in turn, trips first, and kept only when they
    have a right to come in (as the door would decide)."""
    emails = sorted({habit.person for habit in data.HABITS})
    people = {user.email: user for user in User.objects.filter(email__in=emails)}
    habits: dict[str, list[data.Habit]] = {}
    for habit in data.HABITS:
        habits.setdefault(habit.person, []).append(habit)
    badge_holders = {badge.person for badge in data.BADGES}
    openings = {
        slug: _Opening(
            venue,
            venue_selectors.opening_windows(venue),
            venue_selectors.closures_between(venue, first, last),
        )
        for slug, venue in venues.items()
    }
    rights = _Rights(list(people.values()))
    visits = []
    day = first
    while day <= last:
        for email in emails:
            person = people[email]
            rng = random.Random(f"{data.SEED}:{email}:{day.isoformat()}")
            home, *trips = habits[email]
            for habit in (*trips, home):
                if rng.random() >= habit.days_per_month / data.OPEN_DAYS_PER_MONTH:
                    continue
                opening = openings[habit.venue]
                moments = _moments(opening, day, rng)
                if moments is None:
                    continue
                subscription = rights.grant(person, opening.venue, day)
                if subscription is None:
                    continue
                passages = rng.choice((1, 1, 2, 2, 3))
                if email in badge_holders:
                    source = VisitSource.BADGE
                else:
                    source = rng.choice((VisitSource.QR, VisitSource.KIOSK))
                visits.append(
                    Visit(
                        person=person,
                        venue=opening.venue,
                        home_venue_id=subscription.venue_id,
                        subscription=subscription,
                        day=day,
                        first_seen_at=moments[0],
                        last_seen_at=moments[1] if passages > 1 else moments[0],
                        passages=passages,
                        source=source,
                    )
                )
                break
        day += timedelta(days=1)
    return visits


def ensure_network_access(venues: dict[str, Venue]) -> None:
    for slug, venue in venues.items():
        plan = Plan.objects.get(venue=venue, slug=data.PASS_PLAN)
        if NetworkAccess.objects.filter(plan=plan).exists():
            continue  # a manager may have changed it since: left as it is
        set_network_access(
            plan=plan,
            host_venues=[other for other_slug, other in venues.items() if other_slug != slug],
            weekdays=data.PASS_WEEKDAYS,
            days_per_month=data.PASS_DAYS_PER_MONTH,
            booking_discount_percent=Decimal(data.PASS_BOOKING_DISCOUNT),
        )


def ensure_badges(venues: dict[str, Venue], report: PassReport) -> None:
    for spec in data.BADGES:
        if not Badge.objects.filter(uid=spec.uid).exists():
            register_badge(
                venue=venues[spec.venue],
                person=User.objects.get(email=spec.person),
                uid=spec.uid,
                label=spec.label,
            )
        report.badges += 1


def ensure_doors(venues: dict[str, Venue], report: PassReport) -> None:
    for slug, name in data.DOORS.items():
        venue = venues[slug]
        if not DoorDevice.objects.filter(venue=venue, name=name, revoked_at__isnull=True).exists():
            # The token is dropped on purpose: a demo must not hand out a working door secret. Whoever wants
            # to try a reader adds one from the venue's "Door devices" page and reads its token there once.
            register_door_device(venue=venue, name=name)
        report.doors += 1


def ensure_visits(venues: dict[str, Venue], report: PassReport) -> tuple[date, date]:
    today = min(local_today(venue) for venue in venues.values())
    first = months_before(today, data.VISIT_MONTHS)
    last = today - timedelta(days=1)
    drawn = draw_visits(venues, first, last)
    existing = set(
        Visit.objects.filter(day__gte=first, day__lte=last, venue__in=list(venues.values())).values_list(
            "person_id", "venue_id", "day"
        )
    )
    new = [v for v in drawn if (v.person.pk, v.venue.pk, v.day) not in existing]
    Visit.objects.bulk_create(new, batch_size=500)
    report.visits = len(drawn)
    report.new_visits = len(new)
    return first, today


def ensure_clearing(network: Network, first: date, today: date, report: PassReport) -> None:
    if not ClearingKey.objects.filter(network=network).exists():
        vote_key(
            network=network,
            method=data.KEY_METHOD,
            unit_price=Decimal(data.KEY_PRICE),
            free_allowance=data.KEY_ALLOWANCE,
            cap_per_pair=Decimal(data.KEY_CAP),
            voted_on=months_before(first, 1) + timedelta(days=14),
            note=data.KEY_NOTE,
        )
    month = first
    previous = months_before(today, 1)
    while month <= previous:
        statement = clearing_selectors.statement_for(network, month)
        if statement is None or not statement.is_closed:
            try:
                statement = run_clearing(network, month, close=True)
            except DomainError as error:  # a key voted later by hand, say: reported, never fatal
                report.skipped.append(f"{month:%Y-%m}: {error.message}")
                month = months_before(month, -1)
                continue
        report.closed.append(f"{month:%Y-%m}")
        if month < previous:
            pay_transfers(statement)
        month = months_before(month, -1)


def pay_transfers(statement: ClearingStatement) -> None:
    """The transfers of a month before the last one were paid by bank transfer; the last month's invoices
    are still due, as they would be a few days after closing."""
    for transfer in statement.transfers.select_related("invoice", "creditor"):
        invoice = transfer.invoice
        if invoice is None:
            continue
        due = balance(invoice).due
        if due <= 0:
            continue
        record_payment(
            invoice,
            amount=due,
            method=PaymentMethod.TRANSFER,
            received_on=invoice.issued_on or local_today(transfer.creditor),
            reference=f"{DEMO_REFERENCE} {invoice.number}",
            external_id=f"{DEMO_REFERENCE}-{invoice.number}",
        )


def load_interlieux(network: Network, venues: dict[str, Venue], stdout: TextIO | None = None) -> PassReport:
    report = PassReport()
    with transaction.atomic():
        if not NetworkKey.objects.filter(network=network, retired_at__isnull=True).exists():
            create_network_key(network=network)
        ensure_network_access(venues)
        ensure_badges(venues, report)
        ensure_doors(venues, report)
        first, today = ensure_visits(venues, report)
    ensure_clearing(network, first, today, report)
    report.holders = (
        Subscription.objects.filter(plan__slug=data.PASS_PLAN, plan__venue__network=network)
        .values("member")
        .distinct()
        .count()
    )
    if stdout is not None:
        stdout.write(
            _(
                "Pass Interlieux: %(holders)s pass holders, %(badges)s badges, %(doors)s door readers, "
                "%(visits)s visits since %(since)s (%(new)s new), months cleared and closed: %(months)s."
            )
            % {
                "holders": report.holders,
                "badges": report.badges,
                "doors": report.doors,
                "visits": report.visits,
                "since": f"{first:%d/%m/%Y}",
                "new": report.new_visits,
                "months": ", ".join(report.closed) or "—",
            }
            + "\n"
        )
        for line in report.skipped:
            stdout.write(f"  {line}\n")
    return report
