"""Reads about booking credits: a person's balances and ledger, and a venue's view for its managers."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet

from lieux.accounts.models import User
from lieux.core.time import now
from lieux.memberships.models import CreditEntry, CreditLot, CreditType
from lieux.venues.models import Venue

# Credits expiring within this many days are shown as "expiring soon".
SOON_DAYS = 30


@dataclass(frozen=True)
class Balance:
    venue: Venue
    credit_type: CreditType
    remaining: Decimal
    next_expiry: date | None
    expiring_soon: Decimal


@dataclass(frozen=True)
class PersonBalance:
    person: User
    credit_type: CreditType
    remaining: Decimal
    next_expiry: date | None


def _live_lots(today: date | None) -> QuerySet[CreditLot]:
    """Lots still holding credits and not past their expiry (the nightly job may not have run yet)."""
    lots = CreditLot.objects.filter(remaining__gt=0).select_related("credit_type", "venue")
    if today is not None:
        lots = lots.filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
    return lots


def _not_expired(lot: CreditLot, today: date | None) -> bool:
    day = today or now().astimezone(lot.venue.tz).date()
    return lot.expires_on is None or lot.expires_on >= day


def balances(
    person: User, venue: Venue | None = None, *, today: date | None = None, soon_days: int = SOON_DAYS
) -> list[Balance]:
    """Per venue and credit type: what the person may still spend, the next expiry date and how much of it
    expires within `soon_days`. Types with nothing left are left out."""
    lots = _live_lots(today).filter(person=person)
    if venue is not None:
        lots = lots.filter(venue=venue)
    grouped: dict[tuple[int, int], list[CreditLot]] = defaultdict(list)
    for lot in lots.order_by("venue_id", "credit_type_id", "expires_on", "pk"):
        if _not_expired(lot, today):
            grouped[(lot.venue_id, lot.credit_type_id)].append(lot)
    result = []
    for group in grouped.values():
        first = group[0]
        day = today or now().astimezone(first.venue.tz).date()
        expiries = [lot.expires_on for lot in group if lot.expires_on is not None]
        soon = day + timedelta(days=soon_days)
        result.append(
            Balance(
                venue=first.venue,
                credit_type=first.credit_type,
                remaining=sum((lot.remaining for lot in group), Decimal("0.00")),
                next_expiry=min(expiries) if expiries else None,
                expiring_soon=sum(
                    (lot.remaining for lot in group if lot.expires_on is not None and lot.expires_on <= soon),
                    Decimal("0.00"),
                ),
            )
        )
    return sorted(result, key=lambda b: (b.venue.name, b.credit_type.name))


def ledger(person: User, venue: Venue | None = None) -> QuerySet[CreditEntry]:
    """Every credit movement of the person, newest first."""
    entries = CreditEntry.objects.filter(lot__person=person).select_related("lot__credit_type", "lot__venue")
    if venue is not None:
        entries = entries.filter(lot__venue=venue)
    return entries.order_by("-at", "-pk")


def venue_balances(venue: Venue, *, today: date | None = None) -> list[PersonBalance]:
    """For the venue's managers: each person's spendable credits per type at this venue."""
    lots = _live_lots(today).filter(venue=venue).select_related("person")
    grouped: dict[tuple[int, int], list[CreditLot]] = defaultdict(list)
    for lot in lots.order_by("person_id", "credit_type_id"):
        if _not_expired(lot, today):
            grouped[(lot.person_id, lot.credit_type_id)].append(lot)
    rows = []
    for group in grouped.values():
        expiries = [lot.expires_on for lot in group if lot.expires_on is not None]
        rows.append(
            PersonBalance(
                person=group[0].person,
                credit_type=group[0].credit_type,
                remaining=sum((lot.remaining for lot in group), Decimal("0.00")),
                next_expiry=min(expiries) if expiries else None,
            )
        )
    return sorted(
        rows, key=lambda r: (r.person.last_name, r.person.first_name, r.person.email, r.credit_type.name)
    )
