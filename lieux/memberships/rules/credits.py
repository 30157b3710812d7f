"""Booking-credit arithmetic: what a booking costs in credits, which lots pay for it, what stays billable,
when lots expire and what a refund gives back. Pure: no ORM, no clock, no I/O.

Policies (the choices a member or a manager may ask about):

- **Cost.** A booking costs `hours × credits_per_hour` of the resource's conversion table, rounded *up* to
  a quarter of a credit (CREDIT_STEP): a 50-minute meeting at 1 credit/hour costs 1.00 credit, never
  0.83. A quarter keeps the ledger readable while never charging more than 15 minutes too much at
  1 credit/hour.
- **Validity.** A lot pays only for bookings that take place within its validity, from the day it was
  granted to its expiry day (inclusive), and only while it has not expired: a monthly allowance cannot be
  spent on a booking after the subscription period it belongs to.
- **Order.** Lots are spent oldest expiry first; lots that never expire come last; ties go to the lot
  granted first.
- **Several credit types for one resource.** One type pays for a booking: the first (by the order given)
  that covers it in full, otherwise the one that covers the largest share. A rate of 0 credits per hour
  means the type does not pay for that resource.
- **Remainder.** What the credits do not cover is billed: the uncovered share of the quoted price,
  rounded to the cent.
- **Refund.** A refund gives each lot back exactly what the booking took from it. A lot that has expired
  since gets nothing back: its credits were lost with the rest of the lot.
- **Expiry.** "reset" lots expire at the end of their period; "carry" lots `carry_months` months after the
  end of their period (month ends stay month ends), and never when `carry_months` is 0.
"""

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal

from lieux.core.money import cents

CREDIT_STEP = Decimal("0.25")
QUANTUM = Decimal("0.01")  # the ledger's precision (DecimalField(decimal_places=2))
ZERO = Decimal("0.00")
RESET = "reset"
CARRY = "carry"


def hours_between(start: datetime, end: datetime) -> Decimal:
    """Elapsed hours between two aware instants (a DST night counts its real length)."""
    return Decimal(int((end - start).total_seconds())) / Decimal(3600)


def credit_cost(hours: Decimal, credits_per_hour: Decimal, step: Decimal = CREDIT_STEP) -> Decimal:
    """Credits a booking of `hours` costs, rounded up to `step`."""
    if hours <= 0 or credits_per_hour <= 0:
        return ZERO
    steps = (hours * credits_per_hour / step).to_integral_value(rounding=ROUND_CEILING)
    return (steps * step).quantize(QUANTUM)


@dataclass(frozen=True)
class Lot:
    """What the rules need to know about a credit lot."""

    id: int
    remaining: Decimal
    granted_on: date
    expires_on: date | None


def is_expired(lot: Lot, today: date) -> bool:
    return lot.expires_on is not None and lot.expires_on < today


def is_usable(lot: Lot, *, on: date, today: date) -> bool:
    """May `lot` pay for a booking taking place on `on`, looked at on `today`?"""
    if lot.remaining <= 0 or is_expired(lot, today) or lot.granted_on > on:
        return False
    return lot.expires_on is None or on <= lot.expires_on


def spending_order(lots: Iterable[Lot]) -> list[Lot]:
    """Oldest expiry first, lots without expiry last, then the lot granted first."""
    return sorted(
        lots,
        key=lambda lot: (lot.expires_on is None, lot.expires_on or date.max, lot.granted_on, lot.id),
    )


def allocate(cost: Decimal, lots: Iterable[Lot]) -> list[tuple[int, Decimal]]:
    """(lot id, credits taken) in spending order, taking at most each lot's remaining credits and in all
    min(cost, total remaining). The caller passes usable lots only."""
    taken: list[tuple[int, Decimal]] = []
    left = cost
    for lot in spending_order(lots):
        if left <= 0:
            break
        if lot.remaining <= 0:
            continue
        quantity = min(left, lot.remaining)
        taken.append((lot.id, quantity))
        left -= quantity
    return taken


@dataclass(frozen=True)
class Option:
    """One credit type that could pay for a booking: its cost in that type and what the person holds."""

    credit_type_id: int
    cost: Decimal
    available: Decimal


def choose_option(options: Sequence[Option]) -> Option | None:
    """The first option that covers the booking in full; otherwise the one covering the largest share
    (the first of equals). None when no option covers anything."""
    best: Option | None = None
    best_share = Decimal(0)
    for option in options:
        if option.cost <= 0:
            continue
        if option.available >= option.cost:
            return option
        share = option.available / option.cost
        if share > best_share:
            best, best_share = option, share
    return best


@dataclass(frozen=True)
class Coverage:
    cost: Decimal
    credits_used: Decimal

    @property
    def covered_fraction(self) -> Decimal:
        """Share of the booking paid with credits, 0 to 1 (four decimals, for display)."""
        if self.cost <= 0:
            return Decimal(0)
        return (self.credits_used / self.cost).quantize(Decimal("0.0001"))

    def billable(self, quoted_net_amount: Decimal | None) -> Decimal | None:
        """The uncovered share of the quoted price, to the cent; None when the booking has no price."""
        if quoted_net_amount is None:
            return None
        if self.cost <= 0:
            return cents(quoted_net_amount)
        uncovered = (self.cost - self.credits_used) / self.cost
        return cents(quoted_net_amount * uncovered)


def refunds(
    consumed: Mapping[int, Decimal], lots: Mapping[int, Lot], today: date
) -> list[tuple[int, Decimal]]:
    """What to give back: for each lot, what the booking still holds from it (`consumed`, net of earlier
    refunds), unless the lot has expired."""
    return [
        (lot_id, quantity)
        for lot_id, quantity in sorted(consumed.items())
        if quantity > 0 and not is_expired(lots[lot_id], today)
    ]


def add_months(day: date, months: int) -> date:
    """`day` moved by `months` calendar months; the last day of a month stays the last day of a month and
    a day the target month lacks becomes its last day (31 January + 1 month = 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    if day.day == calendar.monthrange(day.year, day.month)[1]:
        return date(year, month, last)
    return date(year, month, min(day.day, last))


def grant_expiry(rollover: str, carry_months: int, period_end: date) -> date | None:
    """Last day a lot granted for a period ending on `period_end` (inclusive) may be used."""
    if rollover == RESET:
        return period_end
    if carry_months == 0:
        return None
    return add_months(period_end, carry_months)
