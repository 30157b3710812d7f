"""Billing periods, price steps, proration, commitment and notice. Pure: no ORM, no clock, no I/O.

All dates are calendar dates of the venue (Europe/Paris for every venue today); a period's `end` is its
last day, inclusive. The policies a member or a manager may ask about:

- **Periods are anchored** on the first paid day (the start date, or the day after a trial). The n-th
  period starts n intervals after the anchor, on the anchor's day of the month, or on the last day of a
  month that lacks it: anchored on 31 January, periods start on 28 (or 29) February, then 31 March, 30
  April… Each start is computed from the anchor, never from the previous period, so a short month never
  drags later periods earlier. Consecutive periods tile time: no gap, no overlap.
- **Price steps.** A plan's price is a list of steps (an introductory or solidarity rate, then the full
  rate from a set date). A period is priced by the step in force on its first day: a step that starts in
  the middle of a period applies from the next period. A member's rate never changes within a period and
  nothing is prorated across a price step.
- **Proration** is set per plan. "by_day": a partial period costs `price × days used / days in the
  period`, rounded half-up to the cent; the unused days of a paid period are credited the same way.
  "none": a started period is due in full and nothing is credited for its unused days (only a period not
  yet begun is credited in full).
- **Commitment**: `commitment_months` from the anchor; its last day is the day before the anchor plus that
  many months. A subscription may not end before it (a manager may force it).
- **Notice**: giving notice on day D with N days of notice, the subscription may end on D + N at the
  earliest. Cancelling "at period end" ends it on the last day of the first period ending on or after
  that date (and after the commitment).
- **Trial**: `trial_days` days from the start date, the last of which is `start + trial_days - 1`; the
  first paid period starts the next day.
"""

import calendar
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from lieux.core.money import ZERO, cents

MONTH = "month"
YEAR = "year"
ONCE = "once"
RECURRING = (MONTH, YEAR)
MONTHS_IN = {MONTH: 1, YEAR: 12}

NO_PRORATION = "none"
BY_DAY = "by_day"

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # inclusive

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


# Calendar arithmetic


def add_months(anchor: date, months: int) -> date:
    """`anchor` moved by `months` calendar months, on the anchor's day of the month or on the last day of
    the target month when it is shorter (31 January + 1 month = 28 or 29 February)."""
    index = anchor.year * 12 + anchor.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))


def period_start(anchor: date, interval: str, index: int) -> date:
    """First day of the `index`-th period counted from `anchor` (index 0 starts on the anchor)."""
    return add_months(anchor, index * MONTHS_IN[interval])


def nth_period(anchor: date, interval: str, index: int) -> Period:
    return Period(period_start(anchor, interval, index), period_start(anchor, interval, index + 1) - ONE_DAY)


def period_index(anchor: date, interval: str, day: date) -> int:
    """The index of the period containing `day` (negative before the anchor)."""
    step = MONTHS_IN[interval]
    months = (day.year - anchor.year) * 12 + day.month - anchor.month
    index = months // step
    # The estimate is off by at most one: the anchor's day of the month may not have come yet.
    while period_start(anchor, interval, index) > day:
        index -= 1
    while period_start(anchor, interval, index + 1) <= day:
        index += 1
    return index


def period_containing(anchor: date, interval: str, day: date) -> Period:
    return nth_period(anchor, interval, period_index(anchor, interval, day))


def following_period(anchor: date, interval: str, period: Period) -> Period:
    """The period that starts the day after `period` ends."""
    return period_containing(anchor, interval, period.end + ONE_DAY)


def periods_until(anchor: date, interval: str, after: Period, until: date) -> Iterator[Period]:
    """The periods following `after` that start on or before `until`, in order."""
    period = after
    while period.end < until:
        period = following_period(anchor, interval, period)
        yield period


def once_period(start: date, validity_days: int | None) -> Period:
    """The single period of a day pass or a prepaid pack: `validity_days` days from `start` (one day when
    the plan says nothing)."""
    return Period(start, start + timedelta(days=max(validity_days or 1, 1) - 1))


def month_bounds(first_day: date) -> Period:
    """The calendar month starting on `first_day` (which must be the 1st)."""
    if first_day.day != 1:
        raise ValueError("a billing month is given by its first day")
    return Period(first_day, first_day.replace(day=calendar.monthrange(first_day.year, first_day.month)[1]))


# Price steps


@dataclass(frozen=True)
class PriceStep:
    starts_on: date
    net_amount: Decimal
    label: str = ""


def step_at(steps: Iterable[PriceStep], day: date) -> PriceStep | None:
    """The step in force on `day`: the latest one started on or before it; None before the first."""
    current: PriceStep | None = None
    for step in steps:
        if step.starts_on <= day and (current is None or step.starts_on > current.starts_on):
            current = step
    return current


def price_at(steps: Iterable[PriceStep], day: date) -> Decimal | None:
    step = step_at(steps, day)
    return None if step is None else step.net_amount


def period_price(steps: Iterable[PriceStep], period: Period) -> Decimal | None:
    """A period is priced by the step in force on its first day (see the module's policies)."""
    return price_at(steps, period.start)


def upcoming_steps(steps: Sequence[PriceStep], day: date) -> list[PriceStep]:
    """Steps that start after `day`, in date order: what a member is told will change."""
    return sorted((s for s in steps if s.starts_on > day), key=lambda s: s.starts_on)


# Proration


def remaining_days(period: Period, from_day: date) -> int:
    """Days of `period` from `from_day` to its end, both included (0 after it, all of it before it)."""
    if from_day > period.end:
        return 0
    return (period.end - max(from_day, period.start)).days + 1


def prorated(amount: Decimal, period: Period, from_day: date) -> Decimal:
    """`amount × remaining days / days in the period`, half-up to the cent."""
    return cents(amount * remaining_days(period, from_day) / period.days)


def charge_for_rest(amount: Decimal, period: Period, from_day: date, policy: str) -> Decimal:
    """What using a period's plan from `from_day` to the period's end costs."""
    if remaining_days(period, from_day) == 0:
        return ZERO
    if policy == BY_DAY:
        return prorated(amount, period, from_day)
    return cents(amount)


def credit_for_unused(amount: Decimal, period: Period, from_day: date, policy: str) -> Decimal:
    """What is given back of `amount`, paid for `period`, when the service stops being used on `from_day`
    (the first unused day)."""
    if policy == BY_DAY:
        return prorated(amount, period, from_day)
    return cents(amount) if from_day <= period.start else ZERO


# Commitment, notice, trial


def commitment_end(anchor: date, commitment_months: int) -> date | None:
    """Last day of the commitment, or None without one."""
    if commitment_months <= 0:
        return None
    return add_months(anchor, commitment_months) - ONE_DAY


def notice_floor(today: date, notice_days: int) -> date:
    """The earliest last day allowed by a notice of `notice_days` given on `today`."""
    return today + timedelta(days=notice_days)


def earliest_end(
    *,
    today: date,
    anchor: date,
    interval: str,
    notice_days: int = 0,
    commitment_ends_on: date | None = None,
    at_period_end: bool = True,
) -> date:
    """The earliest last day of a subscription cancelled on `today`: after the notice and the commitment,
    and, cancelling at period end, on the last day of a period."""
    floor = max(notice_floor(today, notice_days), anchor)
    if commitment_ends_on is not None:
        floor = max(floor, commitment_ends_on)
    if at_period_end and interval in RECURRING:
        return period_containing(anchor, interval, floor).end
    return floor


def is_period_end(anchor: date, interval: str, day: date) -> bool:
    return period_containing(anchor, interval, day).end == day


def trial_end(start: date, trial_days: int) -> date | None:
    """Last day of a trial of `trial_days` days starting on `start`, or None without a trial."""
    if trial_days <= 0:
        return None
    return start + timedelta(days=trial_days - 1)
