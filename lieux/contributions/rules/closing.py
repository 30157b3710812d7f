"""Sharing euros to the cent, and the pro-rata reduction that closes a budget in deficit. Pure.

- `split_cents` shares an amount in proportion to weights: each part is the floor of its exact share in
  cents, and the cents left go to the largest remainders (ties: the order the parts were given in). The
  parts always sum to the amount: no cent is lost or invented by rounding.
- `reduce_pro_rata` brings requests down so that they total a target: every request keeps the same
  proportion of what it was granted (to the cent), none grows, and the total is exactly the target.
"""

from collections.abc import Hashable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar

from lieux.core.money import CENT, ZERO

K = TypeVar("K", bound=Hashable)


def to_cents(amount: Decimal) -> int:
    if amount != amount.quantize(CENT):
        raise ValueError(f"{amount} is not an amount in cents")
    return int(amount * 100)


def from_cents(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(CENT)


def split_cents(total: Decimal, weights: Mapping[K, Decimal]) -> dict[K, Decimal]:
    """`total` (≥ 0, in cents) shared in proportion to `weights` (≥ 0, not all zero)."""
    if total < 0:
        raise ValueError("cannot share a negative amount")
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must not be negative")
    weight_sum = sum((Fraction(w) for w in weights.values()), Fraction(0))
    if weight_sum == 0:
        if total == 0:
            return {key: ZERO for key in weights}
        raise ValueError("cannot share an amount between zero weights")
    total_cents = to_cents(total)
    parts: dict[K, int] = {}
    remainders: list[tuple[Fraction, int, K]] = []
    for order, (key, weight) in enumerate(weights.items()):
        exact = total_cents * Fraction(weight) / weight_sum
        floor = exact.numerator // exact.denominator
        parts[key] = floor
        remainders.append((exact - floor, order, key))
    left = total_cents - sum(parts.values())
    for _remainder, _order, key in sorted(remainders, key=lambda r: (-r[0], r[1]))[:left]:
        parts[key] += 1
    return {key: from_cents(value) for key, value in parts.items()}


def reduce_pro_rata(granted: Mapping[K, Decimal], target: Decimal) -> dict[K, Decimal]:
    """The new amounts of `granted` requests once reduced, together, to `target` (0 ≤ target ≤ their
    total)."""
    total = sum(granted.values(), ZERO)
    if target < 0 or target > total:
        raise ValueError("the target must lie between nothing and what was granted")
    if target == total:
        return dict(granted)
    return split_cents(target, granted)
