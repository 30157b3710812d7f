"""Terms a person gets when booking at a partner venue: the extension point through which the Pass
Interlieux, an app above booking, tells booking about the discounts and credits it grants there.

Booking may not import interlieux (ARCHITECTURE.md §4.2), so interlieux registers a provider here in its
AppConfig.ready(). Without a provider, or when no provider answers, nobody gets partner terms and bookings
are priced as they always were.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

from lieux.booking.partner_rules import PartnerTerms, best_terms
from lieux.venues.models import Venue

__all__ = ["PartnerTerms", "PartnerTermsProvider", "providers", "register", "terms_for"]

# (person, host venue, local day of the booking at the host) → every terms the person holds there.
PartnerTermsProvider = Callable[[Any, Venue, date], list[PartnerTerms]]

providers: list[PartnerTermsProvider] = []


def register(provider: PartnerTermsProvider) -> None:
    """Add a provider once, however often the app registering it is readied."""
    if provider not in providers:
        providers.append(provider)


def terms_for(person: Any, venue: Venue, day: date) -> PartnerTerms | None:
    """The terms that apply to `person` booking at `venue` for `day` (partner_rules.best_terms), or None."""
    if not getattr(person, "is_authenticated", False):
        return None
    return best_terms(terms for provider in providers for terms in provider(person, venue, day))
