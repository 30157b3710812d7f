"""What a budget's ledger balances mean, and its burn-down series. Pure.

The postings (lieux.contributions.services.ledger) give each account a signed balance (debits +, credits −):

    receivable = committed − received                 envelope = validated − reduced − committed
    cash       = received − paid in euros − credit settled
    owed       = −(validated − reduced − paid)        credit_issued = −(paid in credit − credit settled)

The credit account is what the budget still owes the venues that honour the credit it issued; settling it
(services.settlements) pays them from the cash, which is not paying a person.

Every figure of a budget page comes from these five balances plus four small sums the balances cannot
separate (committed and received, read from the receivable account, the reductions of a pro-rata closing,
and the credit settled). `inconsistencies` says which identity a ledger breaks, for the property tests and
`verify`.
"""

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from lieux.core.money import ZERO, cents

RECEIVABLE = "receivable"
ENVELOPE = "envelope"
CASH = "cash"
OWED = "owed"
CREDIT_ISSUED = "credit_issued"
ACCOUNTS = (RECEIVABLE, ENVELOPE, CASH, OWED, CREDIT_ISSUED)

OPEN = "open"
DEFICIT = "deficit"
CLOSED = "closed"

WEEK = "week"
MONTH = "month"
# Up to about six months a budget's burn-down is drawn week by week, beyond that month by month.
WEEKLY_UP_TO_DAYS = 190


@dataclass(frozen=True)
class Figures:
    committed: Decimal  # promised by the funding sources (negative sources included)
    received: Decimal  # cash that reached the budget
    validated: Decimal  # every validation, before reductions
    reduced: Decimal  # taken back from validated requests by a pro-rata closing
    granted: Decimal  # validated − reduced: what contributors are entitled to
    paid_euros: Decimal  # paid to people in euros (settling credit with a venue is not counted)
    credit_issued: Decimal  # paid in network credit, in euros: every credit issued, settled or not
    credit_settled: Decimal  # of that credit, what the budget has paid the venues that honour it
    credit_to_settle: Decimal  # credit issued − credit settled: still owed to those venues
    owed: Decimal  # granted − paid in euros − paid in credit
    pending_count: int  # requests submitted, awaiting review
    pending_amount: Decimal  # what they ask
    remaining: Decimal  # committed − granted: the envelope left to validate (negative in deficit)
    deficit: Decimal  # how far granted passes committed (0 when it does not)
    cash: Decimal  # received − paid in euros − credit settled: what can be paid now
    to_receive: Decimal  # committed − received
    forecast: Decimal  # granted + pending: where the budget goes if every pending request is validated
    forecast_remaining: Decimal  # committed − forecast
    state: str  # open, deficit or closed

    @property
    def forecast_over(self) -> bool:
        return self.forecast_remaining < 0


def figures(
    *,
    balances: Mapping[str, Decimal],
    committed: Decimal,
    received: Decimal,
    reduced: Decimal = ZERO,
    settled: Decimal = ZERO,
    pending_count: int = 0,
    pending_amount: Decimal = ZERO,
    closed: bool = False,
) -> Figures:
    def balance(account: str) -> Decimal:
        return balances.get(account, ZERO)

    granted = committed + balance(ENVELOPE)
    cash = balance(CASH)
    to_settle = -balance(CREDIT_ISSUED)
    remaining = committed - granted
    deficit = max(-remaining, ZERO)
    forecast = granted + pending_amount
    return Figures(
        committed=committed,
        received=received,
        validated=granted + reduced,
        reduced=reduced,
        granted=granted,
        paid_euros=received - cash - settled,
        credit_issued=to_settle + settled,
        credit_settled=settled,
        credit_to_settle=to_settle,
        owed=-balance(OWED),
        pending_count=pending_count,
        pending_amount=pending_amount,
        remaining=remaining,
        deficit=deficit,
        cash=cash,
        to_receive=committed - received,
        forecast=forecast,
        forecast_remaining=committed - forecast,
        state=state(closed=closed, remaining=remaining),
    )


def state(*, closed: bool, remaining: Decimal) -> str:
    if closed:
        return CLOSED
    return DEFICIT if remaining < 0 else OPEN


def inconsistencies(balances: Mapping[str, Decimal], result: Figures) -> list[str]:
    """The identities of the ledger this budget breaks; empty for a sound ledger."""
    found = []
    if unknown := set(balances) - set(ACCOUNTS):
        found.append(f"unknown accounts {sorted(unknown)}")
    if sum(balances.values(), ZERO) != 0:
        found.append(f"balances sum to {sum(balances.values(), ZERO)}")
    if balances.get(RECEIVABLE, ZERO) != result.committed - result.received:
        found.append("receivable is not committed − received")
    if result.owed != result.granted - result.paid_euros - result.credit_issued:
        found.append("owed is not granted − paid")
    if result.committed - result.granted - result.remaining != 0:
        found.append("committed − granted is not the envelope left")
    if balances.get(CREDIT_ISSUED, ZERO) != result.credit_settled - result.credit_issued:
        found.append("credit_issued is not credit settled − credit issued")
    if result.cash < 0:
        found.append(f"cash is negative: {result.cash}")
    if result.paid_euros < 0 or result.credit_issued < 0:
        found.append("a negative payout")
    if result.credit_settled < 0 or result.credit_to_settle < 0:
        found.append("more credit settled than issued, or a negative settlement")
    return found


# Burn-down ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    """What changed on one day."""

    committed: Decimal = ZERO
    granted: Decimal = ZERO  # validations less reductions
    received: Decimal = ZERO


@dataclass(frozen=True)
class Point:
    """The budget at the end of one step (`on`, its last day). The actual figures are None for steps that
    have not started yet; `ideal` is the envelope left had it been spent evenly over the period."""

    on: date
    committed: Decimal | None
    granted: Decimal | None
    envelope_left: Decimal | None
    received: Decimal | None
    ideal: Decimal


@dataclass(frozen=True)
class BurnDown:
    step: str
    points: list[Point] = field(default_factory=list)


def default_step(starts_on: date, ends_on: date) -> str:
    return WEEK if (ends_on - starts_on).days <= WEEKLY_UP_TO_DAYS else MONTH


def step_ends(starts_on: date, ends_on: date, step: str) -> list[date]:
    """The last day of each step of the period: Sundays for weeks, month ends for months; the last step
    ends with the period."""
    ends = []
    day = starts_on
    while day <= ends_on:
        if step == WEEK:
            end = day + timedelta(days=6 - day.weekday())
        else:
            end = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        end = min(end, ends_on)
        ends.append(end)
        day = end + timedelta(days=1)
    return ends


def burn_down(
    *,
    starts_on: date,
    ends_on: date,
    today: date,
    movements: Mapping[date, Movement],
    total_committed: Decimal,
    step: str | None = None,
) -> BurnDown:
    """Cumulative committed, granted and received at the end of each step. Movements dated before the
    period count from its first step, those after it in its last, so the last point of a finished budget
    equals its figures."""
    step = step or default_step(starts_on, ends_on)
    ends = step_ends(starts_on, ends_on, step)
    days = sorted(movements)
    committed = granted = received = ZERO
    position = 0
    period_days = Decimal((ends_on - starts_on).days + 1)
    points = []
    step_start = starts_on
    for index, end in enumerate(ends):
        last = index == len(ends) - 1
        while position < len(days) and (last or days[position] <= end):
            moved = movements[days[position]]
            committed += moved.committed
            granted += moved.granted
            received += moved.received
            position += 1
        ideal = cents(total_committed * Decimal((ends_on - end).days) / period_days)
        if step_start > today:
            points.append(Point(end, None, None, None, None, ideal))
        else:
            points.append(Point(end, committed, granted, committed - granted, received, ideal))
        step_start = end + timedelta(days=1)
    return BurnDown(step=step, points=points)
