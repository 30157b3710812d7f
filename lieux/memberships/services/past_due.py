"""Subscriptions follow their payer's overdue invoices: past due while one is unpaid beyond the venue's
grace days, back to active (or cancelling) once nothing is overdue any more.

Only what this job did is undone by it: a subscription put past due by the venue's staff stays so until
the staff say otherwise."""

from datetime import date

from lieux.billing.models import Invoice
from lieux.billing.overdue import overdue_invoices
from lieux.memberships.models import Subscription, SubscriptionEvent
from lieux.memberships.rules import states
from lieux.memberships.services.subscriptions import mark_paid, mark_past_due


def _overdue(subscription: Subscription, today: date | None) -> list[Invoice]:
    if subscription.payer_organisation_id:
        return overdue_invoices(subscription.venue, organisation=subscription.payer_organisation, today=today)
    return overdue_invoices(subscription.venue, subscription.member, today=today)


def _put_past_due_by_the_system(subscription: Subscription) -> bool:
    last = (
        SubscriptionEvent.objects.filter(
            subscription=subscription, kind="transition", to_status=states.PAST_DUE
        )
        .order_by("-at", "-pk")
        .first()
    )
    return last is not None and last.actor_id is None


def sync_past_due(today: date | None = None) -> tuple[int, int]:
    """Mark past due the running subscriptions whose payer has an overdue invoice, and reactivate those
    this job marked whose payer owes nothing overdue any more. Returns (marked, reactivated). Idempotent."""
    marked = reactivated = 0
    related = ("venue", "member", "payer_organisation")
    for subscription in Subscription.objects.filter(
        status__in=[states.ACTIVE, states.CANCELLING]
    ).select_related(*related):
        overdue = _overdue(subscription, today)
        if overdue:
            mark_past_due(subscription=subscription, invoice=overdue[0])
            marked += 1
    for subscription in Subscription.objects.filter(status=states.PAST_DUE).select_related(*related):
        if not _overdue(subscription, today) and _put_past_due_by_the_system(subscription):
            mark_paid(subscription=subscription)
            reactivated += 1
    return marked, reactivated
