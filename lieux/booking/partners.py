"""Terms a person gets when booking at a partner venue: the extension point through which the Pass
Interlieux, an app above booking, tells booking about the discounts and credits it grants there.

Booking may not import interlieux (ARCHITECTURE.md §4.2), so interlieux registers a provider here in its
AppConfig.ready(). Without a provider, or when no provider answers, nobody gets partner terms and bookings
are priced as they always were. A provider's terms come from a subscription the person holds at another
venue, so providers are asked only about people holding one in force on the day of the booking.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db.models import Q

from lieux.booking.partner_rules import PartnerTerms, best_terms
from lieux.memberships.models import Subscription
from lieux.venues.models import Venue

__all__ = [
    "PartnerTerms",
    "PartnerTermsProvider",
    "holds_subscription_elsewhere",
    "providers",
    "register",
    "terms_for",
]

# (person, host venue, local day of the booking at the host) → every terms the person holds there.
PartnerTermsProvider = Callable[[Any, Venue, date], list[PartnerTerms]]

providers: list[PartnerTermsProvider] = []


def register(provider: PartnerTermsProvider) -> None:
    """Add a provider once, however often the app registering it is readied."""
    if provider not in providers:
        providers.append(provider)


def terms_for(
    person: Any, venue: Venue, day: date, *, subscribed_elsewhere: bool | None = None
) -> PartnerTerms | None:
    """The terms that apply to `person` booking at `venue` for `day` (partner_rules.best_terms), or None.

    Terms come from a subscription sold by another venue (PartnerTerms.subscription_id): providers are
    asked only when the person holds one in force that day, which most people booking do not.
    `subscribed_elsewhere`: that fact, when the caller has already read it."""
    if not getattr(person, "is_authenticated", False):
        return None
    if subscribed_elsewhere is None:
        subscribed_elsewhere = holds_subscription_elsewhere(person, venue, day)
    if not subscribed_elsewhere:
        return None
    return best_terms(terms for provider in providers for terms in provider(person, venue, day))


def holds_subscription_elsewhere(person: Any, venue: Venue, day: date) -> bool:
    """Whether `person` has a subscription of another venue started by `day` and not ended before it,
    whatever its status: the widest set any provider's terms can come from."""
    return (
        Subscription.objects.filter(member=person, started_on__lte=day)
        .exclude(venue=venue)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .exists()
    )
