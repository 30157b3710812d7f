"""What subscriptions share for money: their periods and prices, the invoice of a period, the event log.

Everything here runs inside the caller's transaction with the subscription row locked, so the steps of
one change (draft, period link, number, credits, event) commit or roll back together: a number is never
burnt and an invoice never lacks its period link. A period's invoice is keyed twice — by the draft's
source_key "subscription:<id>:<period start>" and by the SubscriptionInvoice unique constraint on
(subscription, period_start) — so whatever calls it again (a restarted run, a second worker) finds the
first one instead of writing another.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from lieux.billing import rules as billing_rules
from lieux.billing.errors import NothingToInvoice
from lieux.billing.models import Invoice
from lieux.billing.services.drafts import Draft, DraftLine, build_draft, save_draft
from lieux.billing.services.issue import issue_locked
from lieux.core import audit
from lieux.core.errors import ValidationError
from lieux.core.money import ZERO, cents
from lieux.core.time import now
from lieux.memberships import hooks
from lieux.memberships.models import Plan, PlanKind, Subscription, SubscriptionEvent, SubscriptionInvoice
from lieux.memberships.rules import periods, states
from lieux.memberships.services import credits
from lieux.venues.models import Venue

ONE = Decimal(1)


def local_today(venue: Venue) -> date:
    return now().astimezone(venue.tz).date()


def steps_of(plan: Plan) -> list[periods.PriceStep]:
    """The plan's price steps (uses prefetched prices when the caller loaded them)."""
    return [periods.PriceStep(p.starts_on, p.net_amount, p.label) for p in plan.prices.all()]


def anchor_of(subscription: Subscription) -> date:
    """The day periods are counted from (rows written before the anchor existed: the first paid day)."""
    if subscription.billing_anchor_on is not None:
        return subscription.billing_anchor_on
    if subscription.trial_ends_on is not None:
        return subscription.trial_ends_on + periods.ONE_DAY
    return subscription.started_on


def current_period(subscription: Subscription) -> periods.Period:
    return periods.Period(subscription.current_period_start, subscription.current_period_end)


def sold_to_member(plan: Plan) -> bool:
    """Members' plans (and the membership fee itself) are sales to members: a venue exempt for its members
    (art. 261-7-1° a) invoices them without VAT."""
    return plan.members_only or plan.kind == PlanKind.MEMBERSHIP_FEE


def regime_for(venue: Venue, plan: Plan) -> billing_rules.VatRegime:
    return billing_rules.vat_regime(venue.vat_status, sold_to_member=sold_to_member(plan))


@dataclass(frozen=True)
class Amounts:
    net_amount: Decimal
    vat_amount: Decimal
    gross_amount: Decimal

    @classmethod
    def of(cls, net: Decimal, vat_rate: Decimal, regime: billing_rules.VatRegime) -> "Amounts":
        totals = billing_rules.totals([billing_rules.Line("", ONE, cents(net), vat_rate)], regime)
        return cls(totals.net_amount, totals.vat_amount, totals.gross_amount)


NOTHING = Amounts(ZERO, ZERO, ZERO)


def amounts_for(venue: Venue, plan: Plan, net: Decimal) -> Amounts:
    return Amounts.of(net, plan.vat_rate, regime_for(venue, plan))


def period_key(subscription_id: int, start: date) -> str:
    return f"subscription:{subscription_id}:{start:%Y-%m-%d}"


def key_prefix(subscription_id: int) -> str:
    """Every document of a subscription has a source_key starting with this (period invoices, plan-change
    invoices and credit notes)."""
    return f"subscription:{subscription_id}:"


def describe(subscription: Subscription, plan: Plan, period: periods.Period, *, label: str = "") -> str:
    """The invoice line: the plan, whom it is for when an organisation pays, the service dates."""
    values = {
        "plan": plan.name,
        "person": subscription.member.get_full_name() or subscription.member.email,
        "start": f"{period.start:%d/%m/%Y}",
        "end": f"{period.end:%d/%m/%Y}",
    }
    if subscription.payer_organisation_id:
        text = _("%(plan)s for %(person)s, %(start)s to %(end)s") % values
    else:
        text = _("%(plan)s, %(start)s to %(end)s") % values
    if label:
        text += f" ({label})"
    return text[:300]


def buyer_of(subscription: Subscription) -> dict[str, Any]:
    """An organisation paying for its member is the buyer; otherwise the member."""
    if subscription.payer_organisation_id:
        return {"buyer_organisation": subscription.payer_organisation}
    return {"buyer_user": subscription.member}


def log_event(
    subscription: Subscription,
    kind: str,
    *,
    actor: Any = None,
    from_status: str = "",
    to_status: str = "",
    **data: Any,
) -> SubscriptionEvent:
    event = new_event(subscription, kind, actor=actor, from_status=from_status, to_status=to_status, **data)
    event.save()
    return event


def new_event(
    subscription: Subscription,
    kind: str,
    *,
    actor: Any = None,
    from_status: str = "",
    to_status: str = "",
    **data: Any,
) -> SubscriptionEvent:
    """The event `log_event` writes, not saved yet (the billing run writes a batch's events at once)."""
    return SubscriptionEvent(
        subscription=subscription,
        at=now(),
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        data=data,
    )


def log_document(subscription: Subscription, invoice: Invoice, *, actor: Any = None, **data: Any) -> None:
    """An invoice or credit note of the subscription, in its log."""
    document_event(subscription, invoice, actor=actor, **data).save()


def document_event(
    subscription: Subscription, invoice: Invoice, *, actor: Any = None, **data: Any
) -> SubscriptionEvent:
    return new_event(
        subscription,
        "invoice",
        actor=actor,
        invoice=invoice.pk,
        document=invoice.kind,
        number=invoice.number,
        net_amount=str(invoice.net_amount),
        gross_amount=str(invoice.gross_amount),
        service_from=invoice.service_from.isoformat(),
        service_to=invoice.service_to.isoformat(),
        **data,
    )


def transition(subscription: Subscription, target: str, *, actor: Any, action: str, **data: Any) -> None:
    """Move to `target` if the state machine allows it, with its event and audit row. The caller saves."""
    previous = subscription.status
    states.check_transition(previous, target)
    subscription.status = target
    subscription.updated_at = now()
    log_event(subscription, "transition", actor=actor, from_status=previous, to_status=target, **data)
    audit.record(
        f"memberships.subscription.{action}",
        subscription,
        actor=actor,
        venue_id=subscription.venue_id,
        previous=previous,
        status=target,
        **data,
    )


def run_started_hooks(subscription: Subscription) -> None:
    for hook in hooks.on_subscription_started:
        hook(subscription)


def run_ended_hooks(subscription: Subscription) -> None:
    for hook in hooks.on_subscription_ended:
        hook(subscription)


@dataclass(frozen=True)
class PeriodBilling:
    """The outcome of billing one period: the invoice (None for a free period) and whether it is new."""

    period: periods.Period
    invoice: Invoice | None
    created: bool


def price_of(plan: Plan, period: periods.Period, steps: list[periods.PriceStep] | None = None) -> Decimal:
    price = periods.period_price(steps if steps is not None else steps_of(plan), period)
    if price is None:
        raise ValidationError(
            _("%(plan)s has no price on %(day)s.") % {"plan": plan.name, "day": f"{period.start:%d/%m/%Y}"},
            code="no_price",
            plan=plan.pk,
        )
    return price


def invoice_period(
    *,
    subscription: Subscription,
    period: periods.Period,
    plan: Plan | None = None,
    steps: list[periods.PriceStep] | None = None,
    actor: Any = None,
) -> PeriodBilling:
    """Issue the invoice of one period of `subscription` (already locked by the caller), or return the one
    issued before. A free period gives no invoice (no 0 € invoice) and is not an error."""
    link = (
        SubscriptionInvoice.objects.filter(subscription=subscription, period_start=period.start)
        .select_related("invoice")
        .first()
    )
    if link is not None:
        invoice = link.invoice
        if not invoice.is_issued:  # written by a transaction that could not issue it; finish the job
            invoice = issue_locked(invoice.pk, actor=actor)
        return PeriodBilling(period, invoice, created=False)
    plan = plan or subscription.plan
    try:
        draft = save_draft(period_draft(subscription=subscription, period=period, plan=plan, steps=steps))
    except NothingToInvoice:
        return PeriodBilling(period, None, created=False)
    SubscriptionInvoice.objects.create(
        subscription=subscription, period_start=period.start, period_end=period.end, invoice=draft
    )
    invoice = issue_locked(draft.pk, actor=actor)
    log_document(subscription, invoice, actor=actor, plan=plan.pk)
    return PeriodBilling(period, invoice, created=True)


def period_draft(
    *,
    subscription: Subscription,
    period: periods.Period,
    plan: Plan,
    steps: list[periods.PriceStep] | None = None,
) -> Draft:
    """The invoice of one period, built and checked but not written: `invoice_period` writes it alone, the
    billing run writes a venue's batch together. NothingToInvoice for a free period."""
    steps = steps if steps is not None else steps_of(plan)
    price = price_of(plan, period, steps)
    step = periods.step_at(steps, period.start)
    return build_draft(
        venue=subscription.venue,
        lines=[
            DraftLine(
                description=describe(subscription, plan, period, label=step.label if step else ""),
                quantity=ONE,
                unit_net_amount=price,
                vat_rate=plan.vat_rate,
                service_from=period.start,
                service_to=period.end,
            )
        ],
        service_from=period.start,
        service_to=period.end,
        sold_to_member=sold_to_member(plan),
        source_key=period_key(subscription.pk, period.start),
        **buyer_of(subscription),
    )


def grant_credits(*, subscription: Subscription, period: periods.Period) -> list[Any]:
    """The period's booking credits (memberships.services.credits; idempotent per period). A past-due or
    paused member earns none until back in order: the credits job grants them once paid."""
    if subscription.status not in credits.EARNING_STATUSES:
        return []
    return credits.grant_period_credits(
        subscription=subscription, period_start=period.start, period_end=period.end
    )
