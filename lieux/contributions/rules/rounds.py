"""The arithmetic of allocation rounds (« Budget collectif »). Pure.

Policies:

- **Shares.** Every participant receives an equal share of the pot. Cents that do not divide go, one each,
  to the first participants in the order given (the services give them by person id), so the shares sum
  to the pot exactly.
- **Allocations.** A participant spreads at most their share, in non-negative amounts.
- **Participatory outcome.** A project receives what the participants put on it, up to its maximum, if
  that reaches its minimum; otherwise nothing. What is not given (unallocated shares, money above a
  maximum, projects under their minimum) stays undistributed and is reported, never spread silently.
- **Pro rata to hours.** The pot is shared in proportion to the hours validated on each project, to the
  cent; a project whose part is under its minimum receives nothing, one above its maximum receives its
  maximum, and the rest stays undistributed.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from lieux.contributions.rules.closing import from_cents, split_cents, to_cents
from lieux.core.money import ZERO


@dataclass(frozen=True)
class Proposal:
    """A project proposed in a round: the least it needs to go ahead and the most it can use."""

    id: int
    minimum: Decimal
    maximum: Decimal


@dataclass(frozen=True)
class Outcome:
    funded: dict[int, Decimal]  # project id → amount given (0 for those not funded)
    undistributed: Decimal


def equal_shares(pot: Decimal, count: int) -> list[Decimal]:
    """`count` shares of `pot` that differ by at most a cent and sum to it."""
    if count <= 0:
        return []
    base, extra = divmod(to_cents(pot), count)
    return [from_cents(base + (1 if index < extra else 0)) for index in range(count)]


def allocation_fits(share: Decimal, amounts: Sequence[Decimal]) -> bool:
    return all(a >= 0 for a in amounts) and sum(amounts, ZERO) <= share


def fund(proposal: Proposal, amount: Decimal) -> Decimal:
    """What a project receives of `amount`: nothing under its minimum, at most its maximum."""
    if amount <= 0 or amount < proposal.minimum:
        return ZERO
    return min(amount, proposal.maximum)


def participatory_outcome(
    pot: Decimal, proposals: Sequence[Proposal], allocated: Mapping[int, Decimal]
) -> Outcome:
    funded = {p.id: fund(p, allocated.get(p.id, ZERO)) for p in proposals}
    return Outcome(funded=funded, undistributed=pot - sum(funded.values(), ZERO))


def pro_rata_hours_outcome(
    pot: Decimal, proposals: Sequence[Proposal], hours: Mapping[int, Decimal]
) -> Outcome:
    weights = {p.id: max(hours.get(p.id, ZERO), ZERO) for p in proposals}
    if not any(weights.values()):
        return Outcome(funded={p.id: ZERO for p in proposals}, undistributed=pot)
    parts = split_cents(pot, weights)
    funded = {p.id: fund(p, parts[p.id]) for p in proposals}
    return Outcome(funded=funded, undistributed=pot - sum(funded.values(), ZERO))
