"""Pricing a booking at a partner venue (Pass Interlieux). Pure: no ORM, no clock, no I/O.

Policies (what a venue manager may ask about; docs/interlieux.md says the same in French):

- **Which rate.** The plan was sold by another venue, so the host owes the person nothing as a member: the
  discount comes off the host's **public rate** (what a visitor pays), rounded to the cent half up.
- **No stacking.** A person who is also a member of the host pays the lower of the member rate and the
  discounted public rate; the discount is never taken off the member rate.
- **No public rate, no discount.** A resource priced for members only (or free) keeps its price.
- **Several passes.** When a person holds several passes valid at the host, the one with the largest
  discount applies; between equal discounts, one that lets credits pay, then the oldest subscription.
  Its credit rule goes with it: one pass sets the terms of a booking.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from lieux.core.money import cents

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class PartnerTerms:
    """What one subscription sold by `home_venue_id` grants at a host venue for bookings.

    `credit_type_ids`: the home venue's credit types the plan grants, the only credits that may pay for
    bookings at the host, and only when `credits_allowed`."""

    home_venue_id: int
    home_venue_name: str
    subscription_id: int
    discount_percent: Decimal
    credits_allowed: bool
    credit_type_ids: frozenset[int] = frozenset()


def best_terms(offered: Iterable[PartnerTerms]) -> PartnerTerms | None:
    """Largest discount, then credits allowed, then the oldest subscription; None when nothing is offered."""
    ranked = sorted(offered, key=lambda t: (-t.discount_percent, not t.credits_allowed, t.subscription_id))
    return ranked[0] if ranked else None


def discounted(amount: Decimal, percent: Decimal) -> Decimal:
    """`amount` less `percent` per cent (0 to 100), to the cent."""
    return cents(amount * (HUNDRED - percent) / HUNDRED)


@dataclass(frozen=True)
class PartnerPrice:
    """The price a pass holder pays, and the discount it carries (None when the discount did not lower
    it: no public rate, a 0 % discount, or a cheaper member rate)."""

    net_amount: Decimal | None
    discount_percent: Decimal | None = None


def partner_price(*, regular: Decimal | None, public: Decimal | None, percent: Decimal) -> PartnerPrice:
    """`regular`: what the person pays without the pass (the member rate when they are a member of the
    host, else the public rate); `public`: the host's public rate for the same slot."""
    if public is None or percent <= 0:
        return PartnerPrice(regular)
    price = discounted(public, percent)
    if regular is not None and regular <= price:
        return PartnerPrice(regular)
    return PartnerPrice(price, percent)
