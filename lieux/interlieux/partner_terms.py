"""What a Pass Interlieux grants for bookings at its host venues: a discount off the host's public rate
and, when the home plan allows it, payment with the credits that plan grants. Registered with
booking.partners (which booking owns, since booking may not import interlieux) in InterlieuxConfig.ready().
"""

from datetime import date

from django.db.models import Q

from lieux.accounts.models import User
from lieux.booking.partners import PartnerTerms
from lieux.interlieux.selectors import network_access_of
from lieux.memberships.models import Subscription, SubscriptionStatus
from lieux.venues.models import Venue

# A subscription in good standing on the day of the booking. Unlike the door (ENTRY_STATUSES), a past-due
# subscription earns no discount nor credits elsewhere: the home venue is owed money already.
BOOKING_STATUSES = (SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELLING)


def partner_terms(person: User, venue: Venue, day: date) -> list[PartnerTerms]:
    """The terms of each of `person`'s subscriptions whose pass names `venue` as a host, for a booking on
    `day` (local at `venue`). A venue's own plans give no partner terms there: members pay its member rate."""
    subscriptions = (
        Subscription.objects.filter(
            member=person,
            status__in=BOOKING_STATUSES,
            started_on__lte=day,
            venue__network_id=venue.network_id,
            plan__network_access__host_venues=venue,
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .exclude(venue=venue)
        .select_related("venue", "plan__network_access")
        .prefetch_related("plan__credit_grants")
        .order_by("pk")
    )
    offered = []
    for subscription in subscriptions:
        access = network_access_of(subscription)
        if access is None:
            continue
        grants = subscription.plan.credit_grants.all()
        offered.append(
            PartnerTerms(
                home_venue_id=subscription.venue_id,
                home_venue_name=subscription.venue.name,
                subscription_id=subscription.pk,
                discount_percent=access.booking_discount_percent,
                credits_allowed=access.partner_bookings_use_credits,
                credit_type_ids=frozenset(grant.credit_type_id for grant in grants if grant.quantity > 0),
            )
        )
    return offered
