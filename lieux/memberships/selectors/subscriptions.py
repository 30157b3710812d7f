"""Reads about plans and subscriptions: a person's, a venue's, one in detail, what a venue sells."""

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from lieux.accounts.models import User
from lieux.billing.models import Invoice
from lieux.core.errors import NotFound
from lieux.memberships.models import (
    CreditGrant,
    Plan,
    PlanPrice,
    Subscription,
    SubscriptionEvent,
    SubscriptionInvoice,
)
from lieux.memberships.rules import periods
from lieux.memberships.services.invoicing import key_prefix, local_today, steps_of
from lieux.venues.models import Venue

_RELATED = ("plan", "next_plan", "venue", "member", "payer_organisation", "desk")


def subscriptions_for(
    person: User, *, include_organisations: bool = False, status: str | None = None
) -> QuerySet[Subscription]:
    """The person's own subscriptions, at every venue; with `include_organisations`, also those paid by an
    organisation they belong to (for whoever handles its bills)."""
    condition = Q(member=person)
    if include_organisations:
        condition |= Q(payer_organisation__members=person)
    subscriptions = Subscription.objects.filter(condition).select_related(*_RELATED).distinct()
    if status:
        subscriptions = subscriptions.filter(status=status)
    return subscriptions.order_by("-started_on", "-pk")


def venue_subscriptions(venue: Venue, status: str | None = None) -> QuerySet[Subscription]:
    subscriptions = Subscription.objects.filter(venue=venue).select_related(*_RELATED)
    if status:
        subscriptions = subscriptions.filter(status=status)
    return subscriptions.order_by("plan__name", "member__last_name", "member__first_name", "pk")


@dataclass(frozen=True)
class SubscriptionDetail:
    subscription: Subscription
    events: list[SubscriptionEvent]
    period_invoices: list[SubscriptionInvoice]  # one per invoiced period
    documents: list[Invoice]  # every invoice and credit note of the subscription, newest first
    current_price: periods.PriceStep | None
    upcoming_prices: list[periods.PriceStep]


def subscription_detail(
    subscription_id: int, *, venue: Venue | None = None, member: User | None = None
) -> SubscriptionDetail:
    """One subscription with its log and its documents. `venue` (a manager's view) or `member` (the
    person's own view, including what their organisation pays) restrict what may be found; anything else
    is NotFound."""
    subscriptions = Subscription.objects.select_related(*_RELATED)
    if venue is not None:
        subscriptions = subscriptions.filter(venue=venue)
    if member is not None:
        mine = Q(member=member) | Q(payer_organisation__members=member)
        subscriptions = subscriptions.filter(mine).distinct()
    subscription = subscriptions.filter(pk=subscription_id).first()
    if subscription is None:
        raise NotFound(_("No such subscription."), code="unknown_subscription")
    steps = steps_of(subscription.plan)
    today = local_today(subscription.venue)
    return SubscriptionDetail(
        subscription=subscription,
        events=list(subscription.events.select_related("actor").order_by("at", "pk")),
        period_invoices=list(subscription.period_invoices.select_related("invoice").order_by("period_start")),
        documents=list(
            Invoice.objects.filter(
                venue_id=subscription.venue_id, source_key__startswith=key_prefix(subscription.pk)
            ).order_by("-created_at", "-pk")
        ),
        current_price=periods.step_at(steps, today),
        upcoming_prices=periods.upcoming_steps(steps, today),
    )


def plans_on_sale(venue: Venue) -> QuerySet[Plan]:
    """The venue's plans on sale, with their price steps and credit grants loaded."""
    return (
        Plan.objects.filter(venue=venue, is_active=True)
        .prefetch_related(
            Prefetch("prices", queryset=PlanPrice.objects.order_by("starts_on")),
            Prefetch("credit_grants", queryset=CreditGrant.objects.select_related("credit_type")),
        )
        .order_by("kind", "name")
    )


def venue_plans(venue: Venue) -> QuerySet[Plan]:
    """Every plan of the venue, on sale or not (the managers' list)."""
    return (
        Plan.objects.filter(venue=venue)
        .prefetch_related(
            Prefetch("prices", queryset=PlanPrice.objects.order_by("starts_on")),
            Prefetch("credit_grants", queryset=CreditGrant.objects.select_related("credit_type")),
        )
        .order_by("-is_active", "kind", "name")
    )


def price_today(plan: Plan) -> periods.PriceStep | None:
    """The price step in force today at the plan's venue (uses prefetched prices)."""
    return periods.step_at(steps_of(plan), local_today(plan.venue))
