"""The arithmetic of the clearing: valuing the visit matrix with a key, netting, settling. Pure functions.

Vocabulary: a cell of the matrix is (home, host) — the venue whose pass let a person in, and the venue
that received them. The home venue owes the host. Amounts are Decimal euros excluding VAT, in cents.

- `value` turns the matrix into amounts per ordered pair (payer home → payee host).
  With a price per visit or per half-day, within each unordered pair of venues the visits cancel one for
  one (reciprocity); the first `free_allowance` units of the difference are free, the rest is paid at the
  unit price by the venue whose members visited more, up to `cap_per_pair`.
  With a revenue share, each home venue gives `revenue_share_percent` % of its pass revenue to the venues
  its members visited, in proportion to those visits, to the cent (largest remainder).
- `value_credits` turns the month's bookings paid with another venue's credits into amounts per ordered
  pair (payer home → payee host): the euros the host forwent, in full. `add_credits` adds them to the
  amounts of the visits, so netting and settling treat both alike.
- `net` adds up what each venue is due and owes: the balances sum to zero.
- `settle` pays the balances with few transfers: the largest debtor pays the largest creditor, repeatedly,
  so every transfer clears at least one venue and there are at most n − 1 of them.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from lieux.core.money import ZERO, cents

Pair = tuple[int, int]  # (home venue id, host venue id)

PER_VISIT = "per_visit"
PER_HALF_DAY = "per_half_day"
REVENUE_SHARE = "revenue_share"
METHODS = (PER_VISIT, PER_HALF_DAY, REVENUE_SHARE)


@dataclass(frozen=True)
class Cell:
    """Visits of members of `home` at `host` in the month; a visit is one person, one host, one day."""

    home: int
    host: int
    visits: int
    half_days: int


@dataclass(frozen=True)
class Key:
    """The valuation rule, as voted (ClearingKey without the ORM)."""

    method: str
    unit_price: Decimal = ZERO
    free_allowance: int = 0
    cap_per_pair: Decimal | None = None
    revenue_share_percent: Decimal = ZERO

    def units(self, cell: Cell) -> int:
        return cell.half_days if self.method == PER_HALF_DAY else cell.visits


@dataclass(frozen=True)
class PairValue:
    """How one ordered pair was valued, for the explanation of a statement."""

    payer: int
    payee: int
    units_out: int  # units of the payer's members at the payee
    units_back: int  # units of the payee's members at the payer
    free_units: int
    paid_units: int
    capped: bool
    amount: Decimal


@dataclass(frozen=True)
class CreditBooking:
    """A booking at `host` paid with booking credits of `home` (Pass Interlieux): `forgone` is what the
    host no longer invoices for it, its price excl. VAT after the pass discount minus what it still bills."""

    home: int
    host: int
    forgone: Decimal


@dataclass(frozen=True)
class CreditValue:
    """What one ordered pair owes for the credits used at a partner: `bookings` bookings, `amount` euros."""

    payer: int
    payee: int
    bookings: int
    amount: Decimal


@dataclass(frozen=True)
class Transfer:
    debtor: int
    creditor: int
    amount: Decimal


def matrix_of(cells: Iterable[Cell]) -> dict[Pair, Cell]:
    """Cells by (home, host); a venue's visits at itself are not cleared and are left out."""
    return {(c.home, c.host): c for c in cells if c.home != c.host and (c.visits or c.half_days)}


def value(
    cells: Iterable[Cell], key: Key, *, pass_revenue: Mapping[int, Decimal] | None = None
) -> dict[Pair, Decimal]:
    """Amounts owed per (payer home, payee host); pairs with nothing to pay are left out."""
    return {(v.payer, v.payee): v.amount for v in explain(cells, key, pass_revenue=pass_revenue) if v.amount}


def explain(
    cells: Iterable[Cell], key: Key, *, pass_revenue: Mapping[int, Decimal] | None = None
) -> list[PairValue]:
    """The valuation pair by pair, with the units, what was free and whether the cap applied."""
    if key.method not in METHODS:
        raise ValueError(f"unknown clearing method {key.method!r}")
    matrix = matrix_of(cells)
    if key.method == REVENUE_SHARE:
        return _revenue_share(matrix, key, pass_revenue or {})
    return _per_unit(matrix, key)


def _per_unit(matrix: Mapping[Pair, Cell], key: Key) -> list[PairValue]:
    result = []
    seen: set[Pair] = set()
    for home, host in sorted(matrix):
        pair = (min(home, host), max(home, host))
        if pair in seen:
            continue
        seen.add(pair)
        a, b = pair
        units_ab = key.units(matrix[(a, b)]) if (a, b) in matrix else 0
        units_ba = key.units(matrix[(b, a)]) if (b, a) in matrix else 0
        payer, payee, out, back = (
            (a, b, units_ab, units_ba) if units_ab >= units_ba else (b, a, units_ba, units_ab)
        )
        difference = out - back
        free = min(difference, key.free_allowance)
        paid = difference - free
        amount = cents(key.unit_price * paid)
        capped = key.cap_per_pair is not None and amount > key.cap_per_pair
        if capped:
            assert key.cap_per_pair is not None
            amount = cents(key.cap_per_pair)
        result.append(PairValue(payer, payee, out, back, free, paid, capped, amount))
    return result


def split_to_the_cent(total: Decimal, weights: Mapping[int, int]) -> dict[int, Decimal]:
    """`total` shared in proportion to `weights`, in cents summing exactly to `total`: everyone gets the
    floor of their share, and the cents left go to the largest remainders (ties: the smallest id)."""
    total_cents = int(cents(total) * 100)
    weight_sum = sum(weights.values())
    if total_cents <= 0 or weight_sum <= 0:
        return {}
    floors: dict[int, int] = {}
    remainders: list[tuple[int, int]] = []
    for venue_id, weight in weights.items():
        share, remainder = divmod(total_cents * weight, weight_sum)
        floors[venue_id] = share
        remainders.append((remainder, venue_id))
    left = total_cents - sum(floors.values())
    for _remainder, venue_id in sorted(remainders, key=lambda r: (-r[0], r[1]))[:left]:
        floors[venue_id] += 1
    return {venue_id: Decimal(value) / 100 for venue_id, value in floors.items()}


def revenue_pot(revenue: Decimal, percent: Decimal) -> Decimal:
    """The part of a home venue's pass revenue given to the venues its members visited, rounded down to
    the cent so the pot never exceeds the share voted."""
    return (revenue * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_FLOOR)


def _revenue_share(
    matrix: Mapping[Pair, Cell], key: Key, pass_revenue: Mapping[int, Decimal]
) -> list[PairValue]:
    visits_by_home: dict[int, dict[int, int]] = defaultdict(dict)
    for (home, host), cell in matrix.items():
        visits_by_home[home][host] = cell.visits
    result = []
    for home in sorted(visits_by_home):
        pot = revenue_pot(pass_revenue.get(home, ZERO), key.revenue_share_percent)
        shares = split_to_the_cent(pot, visits_by_home[home])
        for host in sorted(visits_by_home[home]):
            visits = visits_by_home[home][host]
            result.append(PairValue(home, host, visits, 0, 0, visits, False, shares.get(host, ZERO)))
    return result


def value_credits(bookings: Iterable[CreditBooking]) -> list[CreditValue]:
    """Per ordered pair (payer home → payee host), the euros the host forwent on bookings paid with the
    home venue's credits, summed and rounded to the cent, sorted by pair. A booking paid with its own
    venue's credits, or that cost the host nothing, is left out.

    Owed in full whatever the key's method. The reciprocity allowance, the cap and the revenue share temper
    the value of visits, which a flat-rate pass pays for and which tend to even out between venues. Credits
    are money the home venue already collected (in the subscription that granted them) for a room the host
    then gave without invoicing it: none of it is waived or capped."""
    counts: dict[Pair, int] = defaultdict(int)
    totals: dict[Pair, Decimal] = defaultdict(lambda: ZERO)
    for booking in bookings:
        if booking.home == booking.host or booking.forgone <= 0:
            continue
        pair = (booking.home, booking.host)
        counts[pair] += 1
        totals[pair] += booking.forgone
    return [
        CreditValue(payer, payee, counts[(payer, payee)], cents(totals[(payer, payee)]))
        for payer, payee in sorted(totals)
    ]


def add_credits(amounts: Mapping[Pair, Decimal], credits: Iterable[CreditValue]) -> dict[Pair, Decimal]:
    """The amounts of the visits plus those of the credits, per ordered pair, before netting."""
    total = dict(amounts)
    for credit in credits:
        if credit.amount:
            pair = (credit.payer, credit.payee)
            total[pair] = total.get(pair, ZERO) + credit.amount
    return total


def net(amounts: Mapping[Pair, Decimal]) -> dict[int, Decimal]:
    """Per venue: what it is due minus what it owes. Positive receives, negative pays; sums to zero."""
    balances: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for (payer, payee), amount in amounts.items():
        balances[payer] -= amount
        balances[payee] += amount
    return dict(balances)


def gross(amounts: Mapping[Pair, Decimal]) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    """(owed by each venue, due to each venue) before netting."""
    owed: dict[int, Decimal] = defaultdict(lambda: ZERO)
    due: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for (payer, payee), amount in amounts.items():
        owed[payer] += amount
        due[payee] += amount
    return dict(owed), dict(due)


def settle(balances: Mapping[int, Decimal]) -> list[Transfer]:
    """Transfers that bring every balance to zero: the largest debtor pays the largest creditor as much as
    one of them can, again and again. Each transfer zeroes at least one venue, hence at most n − 1 for n
    venues with a balance (the last transfer zeroes two). Ties go to the smallest id, so it is
    deterministic. Balances must sum to zero."""
    if sum(balances.values(), ZERO) != 0:
        raise ValueError("balances must sum to zero")
    debtors = {venue: -amount for venue, amount in balances.items() if amount < 0}
    creditors = {venue: amount for venue, amount in balances.items() if amount > 0}
    transfers = []
    while debtors and creditors:
        debtor = min(debtors, key=lambda v: (-debtors[v], v))
        creditor = min(creditors, key=lambda v: (-creditors[v], v))
        amount = min(debtors[debtor], creditors[creditor])
        transfers.append(Transfer(debtor, creditor, amount))
        debtors[debtor] -= amount
        creditors[creditor] -= amount
        if debtors[debtor] == 0:
            del debtors[debtor]
        if creditors[creditor] == 0:
            del creditors[creditor]
    return transfers


def month_bounds(month: date) -> tuple[date, date]:
    """(first day, last day) of the month containing `month`."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)
