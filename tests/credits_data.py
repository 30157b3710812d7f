"""Test data for booking credits and the plans that grant them."""

from datetime import date
from decimal import Decimal

from django.db.models import Sum

from lieux.accounts.models import User
from lieux.memberships.models import (
    CreditGrant,
    CreditLot,
    CreditRate,
    CreditType,
    Plan,
    PlanKind,
    Subscription,
    SubscriptionStatus,
)
from lieux.venues.models import Resource, Venue


def credit_type(venue: Venue, code: str = "salle", name: str = "Meeting-room hours") -> CreditType:
    return CreditType.objects.get_or_create(venue=venue, code=code, defaults={"name": name})[0]


def rate(kind: CreditType, resource: Resource, per_hour: str = "1") -> CreditRate:
    return CreditRate.objects.create(credit_type=kind, resource=resource, credits_per_hour=Decimal(per_hour))


def plan(venue: Venue, slug: str = "coworking", **fields) -> Plan:
    fields.setdefault("name", slug.capitalize())
    fields.setdefault("kind", PlanKind.SUBSCRIPTION)
    fields.setdefault("interval", "month")
    return Plan.objects.create(venue=venue, slug=slug, **fields)


def grant(plan: Plan, kind: CreditType, quantity: str, rollover: str = "reset", carry_months: int = 0):
    return CreditGrant.objects.create(
        plan=plan, credit_type=kind, quantity=Decimal(quantity), rollover=rollover, carry_months=carry_months
    )


def subscription(
    plan: Plan,
    member: User,
    start: date,
    end: date,
    *,
    status: str = SubscriptionStatus.ACTIVE,
    **fields,
) -> Subscription:
    return Subscription.objects.create(
        venue=plan.venue,
        plan=plan,
        member=member,
        status=status,
        started_on=fields.pop("started_on", start),
        current_period_start=start,
        current_period_end=end,
        **fields,
    )


def assert_ledger_consistent() -> None:
    """Each lot's remaining equals the sum of its entries, and stays within [0, granted]."""
    for lot in CreditLot.objects.annotate(total=Sum("entries__quantity")):
        assert lot.remaining == (lot.total or 0), lot.source_key
        assert 0 <= lot.remaining <= lot.granted, lot.source_key
