"""Subscriptions: subscribing, quoting, changing plan, pausing, cancelling, ending.

Each write is one transaction that locks the subscription row first, checks the state machine
(rules.states), changes the row, writes a SubscriptionEvent and an audit row, and issues what it owes
(invoices, credit notes) through the billing services — never editing an issued document. A member acts
on their own subscription (or one their organisation pays for); the venue's staff act on any of the
venue's; `actor=None` is the platform itself (the billing run, an import).

Money on a plan change, shown to the member before they confirm (`quote_plan_change`):

- **Now**: the unused days of the current period are credited by a credit note on the invoice that paid
  for them, following the *old* plan's proration policy (by day: pro rata; none: nothing once the period
  has begun); the rest of the period on the new plan is invoiced following the *new* plan's policy (by
  day: pro rata; none: the whole period), at the new plan's price step in force on the day of the change.
  A change of billing interval only takes effect at period end. During a trial nothing is invoiced.
- **At period end**: nothing now; the billing run switches plan when the next period starts and invoices
  it at the new plan's price.

The first period is invoiced when the member subscribes (packs and day passes are only ever invoiced
then); the following periods by the billing run when they start.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils.translation import gettext as _

from lieux.accounts.models import Organisation, User
from lieux.billing.models import DocumentKind, Invoice, InvoiceStatus
from lieux.billing.services.credit_notes import issue_credit_note
from lieux.billing.services.drafts import DraftLine, create_draft
from lieux.billing.services.issue import REGIMES, issue_locked
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import Conflict, Forbidden, NotFound, ValidationError
from lieux.core.money import ZERO, cents
from lieux.core.time import now
from lieux.memberships.models import (
    DeskMode,
    Interval,
    Plan,
    PlanKind,
    Subscription,
    SubscriptionEvent,
)
from lieux.memberships.rules import periods, states
from lieux.memberships.services import invoicing
from lieux.memberships.services.invoicing import (
    NOTHING,
    Amounts,
    amounts_for,
    anchor_of,
    current_period,
    key_prefix,
    local_today,
    log_document,
    log_event,
    price_of,
    steps_of,
    transition,
)
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import Resource

NOW = "now"
PERIOD_END = "period_end"
ONE = Decimal(1)


# Who may act


def _is_staff(actor: Any, venue_id: int) -> bool:
    return actor is None or venue_selectors.is_staff_of(actor, venue_id)


def _ensure_may_act(actor: Any, subscription: Subscription) -> bool:
    """The member, a member of the paying organisation, or the venue's staff; anyone else is told the
    subscription does not exist. Returns whether the actor acts as staff."""
    if _is_staff(actor, subscription.venue_id):
        return True
    pk = getattr(actor, "pk", None)
    if pk is not None and pk == subscription.member_id:
        return False
    if (
        pk is not None
        and subscription.payer_organisation_id
        and Organisation.members.through.objects.filter(
            organisation_id=subscription.payer_organisation_id, user_id=pk
        ).exists()
    ):
        return False
    raise NotFound(_("No such subscription."), code="unknown_subscription")


def _ensure_staff(actor: Any, subscription: Subscription, message: str, code: str) -> None:
    if not _is_staff(actor, subscription.venue_id):
        _ensure_may_act(actor, subscription)  # a stranger learns nothing more than "no such subscription"
        raise Forbidden(message, code=code)


def _lock(subscription: Subscription | int) -> Subscription:
    pk = subscription if isinstance(subscription, int) else subscription.pk
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan", "venue", "member", "payer_organisation", "next_plan", "desk")
        .get(pk=pk)
    )


def lock_person(person: User) -> None:
    """One person's subscribes queue on their row: two clicks on "subscribe" (or a retried payment) make
    one subscription, not two. On SQLite the IMMEDIATE transaction already serialises them."""
    User.objects.select_for_update().filter(pk=person.pk).first()


# Terms of a new subscription


@dataclass(frozen=True)
class Terms:
    status: str
    period: periods.Period  # the first period (the trial when there is one)
    anchor: date
    paid_period: periods.Period  # the first period that is invoiced
    trial_ends_on: date | None
    commitment_ends_on: date | None
    ends_on: date | None


def _trial_allowed(plan: Plan, member: User | None) -> bool:
    """One trial per person and plan: coming back later starts paying at once."""
    if not plan.trial_days or plan.interval == Interval.ONCE:
        return False
    return member is None or not Subscription.objects.filter(plan=plan, member=member).exists()


def terms_for(plan: Plan, starts_on: date, *, trial: bool) -> Terms:
    if plan.interval == Interval.ONCE:
        period = periods.once_period(starts_on, plan.validity_days)
        return Terms(states.ACTIVE, period, starts_on, period, None, None, period.end)
    trial_last = periods.trial_end(starts_on, plan.trial_days) if trial else None
    anchor = trial_last + periods.ONE_DAY if trial_last else starts_on
    paid = periods.nth_period(anchor, plan.interval, 0)
    commitment = periods.commitment_end(anchor, plan.commitment_months)
    if trial_last:
        return Terms(
            states.TRIAL, periods.Period(starts_on, trial_last), anchor, paid, trial_last, commitment, None
        )
    return Terms(states.ACTIVE, paid, anchor, paid, None, commitment, None)


@dataclass(frozen=True)
class SubscriptionQuote:
    """What subscribing to `plan` from `starts_on` means, shown before the member confirms."""

    plan: Plan
    starts_on: date
    trial_ends_on: date | None
    first_period: periods.Period  # the first invoiced period
    first_invoice: Amounts
    price_label: str
    commitment_ends_on: date | None
    notice_days: int
    proration: str
    vat_mention: str
    upcoming_prices: list[periods.PriceStep] = field(default_factory=list)


def quote_subscription(
    plan: Plan, starts_on: date | None = None, *, member: User | None = None
) -> SubscriptionQuote:
    """The first invoice (after the trial, if the member is entitled to one), the commitment and the price
    steps to come."""
    starts_on = starts_on or local_today(plan.venue)
    terms = terms_for(plan, starts_on, trial=_trial_allowed(plan, member))
    steps = steps_of(plan)
    price = price_of(plan, terms.paid_period, steps)
    step = periods.step_at(steps, terms.paid_period.start)
    return SubscriptionQuote(
        plan=plan,
        starts_on=starts_on,
        trial_ends_on=terms.trial_ends_on,
        first_period=terms.paid_period,
        first_invoice=amounts_for(plan.venue, plan, price),
        price_label=step.label if step else "",
        commitment_ends_on=terms.commitment_ends_on,
        notice_days=plan.notice_days,
        proration=plan.proration,
        vat_mention=invoicing.regime_for(plan.venue, plan).mention,
        upcoming_prices=periods.upcoming_steps(steps, terms.paid_period.start),
    )


def _check_desk(plan: Plan, desk: Resource | None) -> None:
    if plan.desk_mode == DeskMode.FIXED:
        if desk is None:
            raise ValidationError(
                _("Choose the desk that comes with this plan."), code="desk_required", field="desk"
            )
        if desk.venue_id != plan.venue_id or not desk.is_active:
            raise ValidationError(_("No such desk at this venue."), code="invalid_desk", field="desk")
    elif desk is not None:
        raise ValidationError(
            _("This plan comes without a fixed desk."), code="desk_not_included", field="desk"
        )


def _ensure_member(plan: Plan, member: User) -> None:
    if not plan.members_only:
        return
    if venue_selectors.is_member_of(member, plan.venue_id):
        return
    if Subscription.objects.filter(
        member=member, venue_id=plan.venue_id, plan__kind=PlanKind.MEMBERSHIP_FEE, status__in=states.LIVE
    ).exists():
        return
    raise Conflict(
        _("This plan is for members of %(venue)s: join first.") % {"venue": plan.venue.name},
        code="members_only",
    )


def subscribe(
    *,
    plan: Plan,
    member: User,
    payer_organisation: Organisation | None = None,
    starts_on: date | None = None,
    desk: Resource | None = None,
    actor: Any,
) -> Subscription:
    """Subscribe `member` to `plan` from `starts_on` (today by default), with a trial when the plan has one
    and the member never had it. The first period is invoiced now, to the paying organisation when one
    pays; the booking hooks (a fixed desk) run in the same transaction, so a desk already taken rolls the
    whole subscription back."""
    staff = _is_staff(actor, plan.venue_id)
    actor_pk = getattr(actor, "pk", None)
    for_colleague = payer_organisation is not None and payer_organisation.members.filter(pk=actor_pk).exists()
    if not staff and actor_pk != member.pk and not for_colleague:
        # A member subscribes themselves; a member of an organisation may also subscribe its members on
        # its account.
        raise Forbidden(_("You may only subscribe yourself."), code="not_your_subscription")
    if not plan.is_active:
        raise Conflict(_("This plan is no longer on sale."), code="plan_not_on_sale")
    today = local_today(plan.venue)
    starts_on = starts_on or today
    if starts_on < today and not staff:
        raise ValidationError(
            _("A subscription cannot start in the past."), code="start_in_past", field="starts_on"
        )
    if payer_organisation is not None and not payer_organisation.members.filter(pk=member.pk).exists():
        raise ValidationError(
            _("The organisation pays only for its own members."),
            code="not_in_organisation",
            field="payer_organisation",
        )
    _check_desk(plan, desk)

    def write() -> Subscription:
        lock_person(member)
        if (
            plan.interval != Interval.ONCE
            and Subscription.objects.filter(plan=plan, member=member).exclude(status=states.ENDED).exists()
        ):
            raise Conflict(_("Already subscribed to this plan."), code="already_subscribed")
        _ensure_member(plan, member)
        terms = terms_for(plan, starts_on, trial=_trial_allowed(plan, member))
        steps = steps_of(plan)
        price_of(plan, terms.paid_period, steps)  # refuse a plan without a price before writing anything
        subscription = Subscription.objects.create(
            venue_id=plan.venue_id,
            plan=plan,
            member=member,
            payer_organisation=payer_organisation,
            status=terms.status,
            started_on=starts_on,
            trial_ends_on=terms.trial_ends_on,
            current_period_start=terms.period.start,
            current_period_end=terms.period.end,
            billing_anchor_on=terms.anchor,
            commitment_ends_on=terms.commitment_ends_on,
            ends_on=terms.ends_on,
            desk=desk,
        )
        log_event(subscription, "transition", actor=actor, to_status=terms.status, plan=plan.pk)
        audit.record(
            "memberships.subscription.started",
            subscription,
            actor=actor,
            venue_id=subscription.venue_id,
            plan=plan.pk,
            member=member.pk,
            payer_organisation=payer_organisation.pk if payer_organisation else None,
            status=terms.status,
            starts_on=starts_on.isoformat(),
        )
        invoicing.run_started_hooks(subscription)
        if terms.status != states.TRIAL:
            invoicing.invoice_period(subscription=subscription, period=terms.period, steps=steps, actor=actor)
        invoicing.grant_credits(subscription=subscription, period=terms.period)
        return subscription

    return atomic_with_retry(write)


# Plan changes


@dataclass(frozen=True)
class ChangeQuote:
    """The money of a plan change, computed from the subscription as it stands."""

    subscription_id: int
    from_plan_id: int
    to_plan_id: int
    when: str
    effective_on: date
    period: periods.Period  # the current period
    days_remaining: int
    credit: Amounts  # credit note on the invoice that paid for the unused days
    charge: Amounts  # invoice for the rest of the period on the new plan
    next_period: periods.Period
    next_period_amounts: Amounts
    from_proration: str
    to_proration: str
    credited_invoice_id: int | None = None

    @property
    def balance(self) -> Decimal:
        """What the member pays now (negative: what they get back), taxes included."""
        return self.charge.gross_amount - self.credit.gross_amount


def _paid_for(subscription: Subscription, period: periods.Period) -> Invoice | None:
    """The invoice that paid for the end of the current period on the current plan: the latest one of the
    subscription covering the period up to its last day (a period invoice, or a former change's)."""
    return (
        Invoice.objects.filter(
            venue_id=subscription.venue_id,
            kind=DocumentKind.INVOICE,
            status=InvoiceStatus.ISSUED,
            source_key__startswith=key_prefix(subscription.pk),
            service_from__gte=period.start,
            service_to=period.end,
        )
        .order_by("-issued_at", "-pk")
        .first()
    )


def _credited_net(invoice: Invoice) -> Decimal:
    total = Invoice.objects.filter(
        corrects=invoice, kind=DocumentKind.CREDIT_NOTE, status=InvoiceStatus.ISSUED
    ).aggregate(total=Sum("net_amount"))["total"]
    return total or ZERO


def _line_rate(invoice: Invoice) -> Decimal:
    line = invoice.lines.order_by("position").first()
    return line.vat_rate if line is not None else ZERO


def _credit(
    subscription: Subscription, period: periods.Period, from_day: date
) -> tuple[Amounts, Invoice | None]:
    """What the unused days from `from_day` give back, by the current plan's proration policy."""
    paid = _paid_for(subscription, period)
    if paid is None:
        return NOTHING, None
    span = periods.Period(paid.service_from, paid.service_to)
    net = periods.credit_for_unused(paid.net_amount, span, from_day, subscription.plan.proration)
    net = min(net, paid.net_amount - _credited_net(paid))
    if net <= 0:
        return NOTHING, paid
    return Amounts.of(net, _line_rate(paid), REGIMES[paid.vat_regime]), paid


def _check_new_plan(subscription: Subscription, new_plan: Plan, when: str) -> None:
    if when not in (NOW, PERIOD_END):
        raise ValidationError(_("Choose now or at the end of the period."), code="invalid_when", field="when")
    if new_plan.venue_id != subscription.venue_id:
        raise NotFound(_("No such plan."), code="unknown_plan")
    if not new_plan.is_active:
        raise Conflict(_("This plan is no longer on sale."), code="plan_not_on_sale")
    if new_plan.pk == subscription.plan_id:
        raise Conflict(_("This is already the plan of the subscription."), code="same_plan")
    if Interval.ONCE in (new_plan.interval, subscription.plan.interval):
        raise ValidationError(_("Only renewing plans can be changed for one another."), code="not_recurring")
    if (
        when == NOW
        and new_plan.interval != subscription.plan.interval
        and subscription.status != states.TRIAL
    ):
        raise ValidationError(
            _("A change between monthly and yearly billing takes effect at the end of the period."),
            code="interval_change_at_period_end",
        )
    if subscription.status not in (states.TRIAL, states.ACTIVE):
        raise Conflict(
            _("A subscription that is paused, ending or past due cannot change plan."), code="not_changeable"
        )


def _change_quote(
    subscription: Subscription, new_plan: Plan, when: str, today: date
) -> tuple[ChangeQuote, Invoice | None]:
    _check_new_plan(subscription, new_plan, when)
    period = current_period(subscription)
    anchor = anchor_of(subscription)
    steps = steps_of(new_plan)
    venue = subscription.venue
    if when == PERIOD_END:
        effective = period.end + periods.ONE_DAY
        next_anchor = anchor if new_plan.interval == subscription.plan.interval else effective
        if subscription.status == states.TRIAL:
            next_anchor = effective
        following = periods.period_containing(next_anchor, new_plan.interval, effective)
        return (
            ChangeQuote(
                subscription_id=subscription.pk,
                from_plan_id=subscription.plan_id,
                to_plan_id=new_plan.pk,
                when=when,
                effective_on=effective,
                period=period,
                days_remaining=0,
                credit=NOTHING,
                charge=NOTHING,
                next_period=following,
                next_period_amounts=amounts_for(venue, new_plan, price_of(new_plan, following, steps)),
                from_proration=subscription.plan.proration,
                to_proration=new_plan.proration,
            ),
            None,
        )
    effective = max(today, period.start)  # a period not begun yet changes from its first day
    if effective > period.end:
        raise Conflict(
            _("The next period of this subscription is being opened: try again in a moment."),
            code="period_pending",
        )
    following = periods.following_period(anchor, new_plan.interval, period)
    credit, paid, charge = NOTHING, None, NOTHING
    if subscription.status != states.TRIAL:
        credit, paid = _credit(subscription, period, effective)
        price = price_of(new_plan, periods.Period(effective, period.end), steps)
        charge = amounts_for(
            venue, new_plan, periods.charge_for_rest(price, period, effective, new_plan.proration)
        )
    return (
        ChangeQuote(
            subscription_id=subscription.pk,
            from_plan_id=subscription.plan_id,
            to_plan_id=new_plan.pk,
            when=when,
            effective_on=effective,
            period=period,
            days_remaining=periods.remaining_days(period, effective),
            credit=credit,
            charge=charge,
            next_period=following,
            next_period_amounts=amounts_for(venue, new_plan, price_of(new_plan, following, steps)),
            from_proration=subscription.plan.proration,
            to_proration=new_plan.proration,
            credited_invoice_id=paid.pk if paid is not None and credit.net_amount > 0 else None,
        ),
        paid,
    )


def quote_plan_change(subscription: Subscription, new_plan: Plan, when: str = NOW) -> ChangeQuote:
    """What changing to `new_plan` now or at period end credits and charges (see the module's policies)."""
    subscription = Subscription.objects.select_related("plan", "venue").get(pk=subscription.pk)
    return _change_quote(subscription, new_plan, when, local_today(subscription.venue))[0]


@dataclass(frozen=True)
class PlanChange:
    subscription: Subscription
    quote: ChangeQuote
    credit_note: Invoice | None = None
    invoice: Invoice | None = None


def change_plan(
    *,
    subscription: Subscription,
    new_plan: Plan,
    when: str = NOW,
    actor: Any,
    desk: Resource | None = None,
    expected: ChangeQuote | None = None,
) -> PlanChange:
    """Change plan now (credit note for the unused part, new invoice for the rest: issued documents are
    never edited) or at period end (the billing run switches). `expected` is the quote the member
    confirmed: if the amounts changed since (a new price step, a payment), nothing is done."""
    _ensure_may_act(actor, subscription)

    def write() -> PlanChange:
        current = _lock(subscription)
        if new_plan.members_only:
            _ensure_member(new_plan, current.member)
        quote, paid = _change_quote(current, new_plan, when, local_today(current.venue))
        if expected is not None and (
            expected.credit != quote.credit or expected.charge != quote.charge or expected.when != quote.when
        ):
            raise Conflict(
                _("The amounts changed since the quote: look at them again."), code="quote_changed"
            )
        chosen_desk = desk or (current.desk if new_plan.desk_mode == DeskMode.FIXED else None)
        _check_desk(new_plan, chosen_desk)
        if when == PERIOD_END:
            return _schedule_change(current, new_plan, quote, chosen_desk, actor)
        return _change_now(current, new_plan, quote, paid, chosen_desk, actor)

    return atomic_with_retry(write)


def _schedule_change(
    subscription: Subscription, new_plan: Plan, quote: ChangeQuote, desk: Resource | None, actor: Any
) -> PlanChange:
    subscription.next_plan = new_plan
    if subscription.plan.desk_mode != DeskMode.FIXED:
        # The current plan books no desk, so the desk chosen for the next plan waits in the row unused.
        subscription.desk = desk
    elif desk is not None and desk.pk != subscription.desk_id:
        raise ValidationError(
            _("Choose a different desk once the new plan has started."), code="desk_change_at_period_end"
        )
    subscription.updated_at = now()
    subscription.save(update_fields=["next_plan", "desk", "updated_at"])
    log_event(
        subscription,
        "plan_change_scheduled",
        actor=actor,
        from_plan=subscription.plan_id,
        to_plan=new_plan.pk,
        effective_on=quote.effective_on.isoformat(),
    )
    audit.record(
        "memberships.subscription.plan_change_scheduled",
        subscription,
        actor=actor,
        venue_id=subscription.venue_id,
        from_plan=subscription.plan_id,
        to_plan=new_plan.pk,
        effective_on=quote.effective_on.isoformat(),
    )
    return PlanChange(subscription, quote)


def _change_now(
    subscription: Subscription,
    new_plan: Plan,
    quote: ChangeQuote,
    paid: Invoice | None,
    desk: Resource | None,
    actor: Any,
) -> PlanChange:
    number = SubscriptionEvent.objects.filter(subscription=subscription, kind="plan_changed").count() + 1
    old_plan = subscription.plan
    rest = periods.Period(quote.effective_on, quote.period.end)
    credit_note = None
    if paid is not None and quote.credit.net_amount > 0:
        credit_note = issue_credit_note(
            paid,
            reason=_("Change from %(old)s to %(new)s: unused days")
            % {"old": old_plan.name, "new": new_plan.name},
            lines=[
                DraftLine(
                    description=invoicing.describe(subscription, old_plan, rest),
                    quantity=ONE,
                    unit_net_amount=quote.credit.net_amount,
                    vat_rate=_line_rate(paid),
                    service_from=rest.start,
                    service_to=rest.end,
                )
            ],
            actor=actor,
            source_key=f"{key_prefix(subscription.pk)}change:{number}:credit",
        )
        log_document(subscription, credit_note, actor=actor, plan=old_plan.pk)
    subscription.plan = new_plan
    subscription.next_plan = None
    subscription.desk = desk
    subscription.updated_at = now()
    invoice = None
    if quote.charge.net_amount > 0:
        draft = create_draft(
            venue=subscription.venue,
            lines=[
                DraftLine(
                    description=invoicing.describe(subscription, new_plan, rest),
                    quantity=ONE,
                    unit_net_amount=quote.charge.net_amount,
                    vat_rate=new_plan.vat_rate,
                    service_from=rest.start,
                    service_to=rest.end,
                )
            ],
            service_from=rest.start,
            service_to=rest.end,
            sold_to_member=invoicing.sold_to_member(new_plan),
            source_key=f"{key_prefix(subscription.pk)}change:{number}",
            **invoicing.buyer_of(subscription),
        )
        invoice = issue_locked(draft.pk, actor=actor)
        log_document(subscription, invoice, actor=actor, plan=new_plan.pk)
    subscription.save(update_fields=["plan", "next_plan", "desk", "updated_at"])
    data: dict[str, Any] = {
        "from_plan": old_plan.pk,
        "to_plan": new_plan.pk,
        "when": NOW,
        "effective_on": quote.effective_on.isoformat(),
        "credit_net": str(quote.credit.net_amount),
        "charge_net": str(quote.charge.net_amount),
    }
    log_event(subscription, "plan_changed", actor=actor, **data)
    audit.record(
        "memberships.subscription.plan_changed",
        subscription,
        actor=actor,
        venue_id=subscription.venue_id,
        **data,
    )
    invoicing.run_started_hooks(subscription)
    invoicing.grant_credits(subscription=subscription, period=rest)
    return PlanChange(subscription, quote, credit_note, invoice)


def cancel_plan_change(*, subscription: Subscription, actor: Any) -> Subscription:
    """Forget a plan change planned for the end of the period."""
    _ensure_may_act(actor, subscription)

    def write() -> Subscription:
        current = _lock(subscription)
        if current.next_plan_id is None:
            raise Conflict(_("No plan change is planned."), code="no_planned_change")
        planned = current.next_plan_id
        current.next_plan = None
        if current.plan.desk_mode != DeskMode.FIXED:
            current.desk = None
        current.updated_at = now()
        current.save(update_fields=["next_plan", "desk", "updated_at"])
        log_event(current, "plan_change_cancelled", actor=actor, to_plan=planned)
        audit.record(
            "memberships.subscription.plan_change_cancelled",
            current,
            actor=actor,
            venue_id=current.venue_id,
            to_plan=planned,
        )
        return current

    return atomic_with_retry(write)


# Pause and resume


def pause(*, subscription: Subscription, actor: Any, reason: str = "") -> Subscription:
    """Stop the subscription's billing from now; the period already paid is not credited."""
    _ensure_may_act(actor, subscription)

    def write() -> Subscription:
        current = _lock(subscription)
        if current.plan.interval == Interval.ONCE:
            raise Conflict(_("A pass or a pack cannot be paused."), code="not_recurring")
        transition(current, states.PAUSED, actor=actor, action="paused", reason=reason)
        current.paused_on = local_today(current.venue)
        current.save(update_fields=["status", "paused_on", "updated_at"])
        return current

    return atomic_with_retry(write)


def resume(*, subscription: Subscription, actor: Any) -> Subscription:
    """Back to active. Within the period already paid, it simply goes on; after it, a new period starts
    today (periods are then counted from today) and is invoiced now."""
    _ensure_may_act(actor, subscription)

    def write() -> Subscription:
        current = _lock(subscription)
        transition(current, states.ACTIVE, actor=actor, action="resumed", paused_on=str(current.paused_on))
        today = local_today(current.venue)
        current.paused_on = None
        restarted = today > current.current_period_end
        if restarted:
            period = periods.nth_period(today, current.plan.interval, 0)
            current.billing_anchor_on = today
            current.current_period_start, current.current_period_end = period.start, period.end
            log_event(
                current, "period", actor=actor, start=period.start.isoformat(), end=period.end.isoformat()
            )
        current.save()
        if restarted:
            invoicing.run_started_hooks(current)
            invoicing.invoice_period(subscription=current, period=current_period(current), actor=actor)
            invoicing.grant_credits(subscription=current, period=current_period(current))
        return current

    return atomic_with_retry(write)


# Cancelling and ending


def _end_now(subscription: Subscription, *, actor: Any, action: str, on: date, **data: Any) -> None:
    """Move to ended with `on` as the last day, and let the booking side free what it held."""
    transition(subscription, states.ENDED, actor=actor, action=action, ends_on=on.isoformat(), **data)
    subscription.ends_on = on
    subscription.next_plan = None
    subscription.save(update_fields=["status", "ends_on", "next_plan", "updated_at"])
    invoicing.run_ended_hooks(subscription)


def _schedule_end(subscription: Subscription, ends_on: date, *, actor: Any, reason: str) -> None:
    """A trial or a past-due subscription keeps its status and gets an end date (see rules.states)."""
    subscription.ends_on = ends_on
    subscription.updated_at = now()
    subscription.save(update_fields=["ends_on", "updated_at"])
    log_event(subscription, "cancel_scheduled", actor=actor, ends_on=ends_on.isoformat(), reason=reason)
    audit.record(
        "memberships.subscription.cancelled",
        subscription,
        actor=actor,
        venue_id=subscription.venue_id,
        status=subscription.status,
        ends_on=ends_on.isoformat(),
        reason=reason,
    )


def cancel(
    *,
    subscription: Subscription,
    actor: Any,
    at_period_end: bool = True,
    ends_on: date | None = None,
    force: bool = False,
    reason: str = "",
) -> Subscription:
    """Give notice. At period end (the default) the subscription ends on the last day of the first period
    that ends after the notice, or on `ends_on` when it is such a period end; it may not end before its
    commitment does. A manager may `force` an earlier end, and may end it at once (`at_period_end=False`,
    crediting the unused days by the plan's proration policy). Refusals are Conflicts whose `earliest_end`
    says when it could end."""
    staff = _ensure_may_act(actor, subscription)
    if (force or not at_period_end) and not staff:
        raise Forbidden(_("Only the venue's managers may end a subscription early."), code="manager_only")

    def write() -> Subscription:
        current = _lock(subscription)
        today = local_today(current.venue)
        plan = current.plan
        if current.status == states.ENDED:
            raise states.IllegalTransition(
                _("This subscription has ended."), current=current.status, target=states.ENDED
            )
        if current.status == states.CANCELLING:
            raise Conflict(
                _("This subscription already ends on %(day)s.") % {"day": current.ends_on},
                code="already_cancelling",
            )
        if current.status == states.TRIAL:
            # Nothing was paid yet: no notice, no commitment, no credit.
            assert current.trial_ends_on is not None
            if at_period_end:
                _schedule_end(current, current.trial_ends_on, actor=actor, reason=reason)
            else:
                _end_now(current, actor=actor, action="ended", on=today, reason=reason, forced=force)
            return current
        if plan.interval == Interval.ONCE:
            raise Conflict(
                _("A pass or a pack ends by itself at the end of its validity."), code="not_recurring"
            )
        anchor = anchor_of(current)
        earliest = periods.earliest_end(
            today=today,
            anchor=anchor,
            interval=plan.interval,
            notice_days=plan.notice_days,
            commitment_ends_on=current.commitment_ends_on,
        )
        ending_now = not at_period_end or current.status == states.PAUSED
        if ending_now:
            target = today
        elif ends_on is not None:
            if ends_on < today or not periods.is_period_end(anchor, plan.interval, ends_on):
                raise ValidationError(
                    _("A subscription ends on the last day of one of its periods."),
                    code="not_a_period_end",
                    field="ends_on",
                )
            target = ends_on
        else:
            target = periods.earliest_end(
                today=today,
                anchor=anchor,
                interval=plan.interval,
                notice_days=0 if force else plan.notice_days,
            )
        if not force and not ending_now and target < periods.notice_floor(today, plan.notice_days):
            raise Conflict(
                _("The notice period is %(days)s days: the subscription can end on %(day)s at the earliest.")
                % {"days": plan.notice_days, "day": f"{earliest:%d/%m/%Y}"},
                code="notice_too_short",
                earliest_end=earliest.isoformat(),
            )
        if not force and current.commitment_ends_on is not None and target < current.commitment_ends_on:
            raise Conflict(
                _(
                    "The commitment runs until %(commitment)s: the subscription can end on %(day)s "
                    "at the earliest."
                )
                % {"commitment": f"{current.commitment_ends_on:%d/%m/%Y}", "day": f"{earliest:%d/%m/%Y}"},
                code="commitment_not_over",
                earliest_end=earliest.isoformat(),
            )
        if current.status == states.PAST_DUE and at_period_end:
            _schedule_end(current, target, actor=actor, reason=reason)
            return current
        if ending_now:
            _end_early(current, today, actor=actor, reason=reason, forced=force)
            return current
        transition(
            current,
            states.CANCELLING,
            actor=actor,
            action="cancelled",
            ends_on=target.isoformat(),
            reason=reason,
            forced=force,
        )
        current.ends_on = target
        current.save(update_fields=["status", "ends_on", "updated_at"])
        return current

    return atomic_with_retry(write)


def _end_early(subscription: Subscription, today: date, *, actor: Any, reason: str, forced: bool) -> None:
    """End today; the days after today that were paid for are credited by the plan's proration policy."""
    period = current_period(subscription)
    credit, paid = NOTHING, None
    if subscription.status != states.TRIAL and today < period.end:
        credit, paid = _credit(subscription, period, today + periods.ONE_DAY)
    if paid is not None and credit.net_amount > 0:
        rest = periods.Period(max(today + periods.ONE_DAY, period.start), period.end)
        note = issue_credit_note(
            paid,
            reason=_("Subscription ended early: unused days"),
            lines=[
                DraftLine(
                    description=invoicing.describe(subscription, subscription.plan, rest),
                    quantity=ONE,
                    unit_net_amount=credit.net_amount,
                    vat_rate=_line_rate(paid),
                    service_from=rest.start,
                    service_to=rest.end,
                )
            ],
            actor=actor,
            source_key=f"{key_prefix(subscription.pk)}end:credit",
        )
        log_document(subscription, note, actor=actor, plan=subscription.plan_id)
    _end_now(subscription, actor=actor, action="ended", on=today, reason=reason, forced=forced)


def undo_cancel(*, subscription: Subscription, actor: Any) -> Subscription:
    """Take the notice back, as long as the subscription has not ended."""
    _ensure_may_act(actor, subscription)

    def write() -> Subscription:
        current = _lock(subscription)
        if current.ends_on is None or current.status == states.ENDED:
            raise Conflict(_("This subscription is not ending."), code="not_cancelling")
        if current.ends_on < local_today(current.venue):
            raise Conflict(_("This subscription has ended."), code="already_ended")
        previous_end = current.ends_on.isoformat()
        if current.status == states.CANCELLING:
            transition(current, states.ACTIVE, actor=actor, action="cancel_undone", ends_on=previous_end)
        else:
            log_event(current, "cancel_undone", actor=actor, ends_on=previous_end)
            audit.record(
                "memberships.subscription.cancel_undone",
                current,
                actor=actor,
                venue_id=current.venue_id,
                status=current.status,
                ends_on=previous_end,
            )
        current.ends_on = None
        current.updated_at = now()
        current.save(update_fields=["status", "ends_on", "updated_at"])
        return current

    return atomic_with_retry(write)


def end(*, subscription: Subscription, actor: Any, reason: str = "") -> Subscription:
    """A manager ends the subscription today, whatever its state; no credit is given (issue one by hand if
    due)."""
    _ensure_staff(actor, subscription, _("Only the venue's managers may end a subscription."), "manager_only")

    def write() -> Subscription:
        current = _lock(subscription)
        _end_now(current, actor=actor, action="ended", on=local_today(current.venue), reason=reason)
        return current

    return atomic_with_retry(write)


# Payments


def mark_past_due(
    *, subscription: Subscription, actor: Any = None, invoice: Invoice | None = None
) -> Subscription:
    """An invoice is overdue: the subscription is past due until it is paid (what that means for access
    is the venue's policy)."""
    _ensure_staff(actor, subscription, _("Only the venue's staff may do this."), "staff_only")

    def write() -> Subscription:
        current = _lock(subscription)
        transition(
            current,
            states.PAST_DUE,
            actor=actor,
            action="past_due",
            invoice=invoice.pk if invoice else None,
            number=invoice.number if invoice else None,
        )
        current.save(update_fields=["status", "updated_at"])
        return current

    return atomic_with_retry(write)


def mark_paid(
    *, subscription: Subscription, actor: Any = None, invoice: Invoice | None = None
) -> Subscription:
    """What was overdue is paid: back to active (or to cancelling when an end date was given), and the
    current period's credits, held back while past due, are granted."""
    _ensure_staff(actor, subscription, _("Only the venue's staff may do this."), "staff_only")

    def write() -> Subscription:
        current = _lock(subscription)
        target = states.status_after_payment(current.ends_on is not None)
        transition(
            current,
            target,
            actor=actor,
            action="reactivated",
            invoice=invoice.pk if invoice else None,
            number=invoice.number if invoice else None,
        )
        current.save(update_fields=["status", "updated_at"])
        invoicing.grant_credits(subscription=current, period=current_period(current))
        return current

    return atomic_with_retry(write)


def log_payment(
    *, subscription: Subscription, invoice: Invoice, amount: Decimal, method: str = "", actor: Any = None
) -> SubscriptionEvent:
    """Write a payment of one of the subscription's invoices into its log (the payment itself is recorded
    by the billing services)."""

    def write() -> SubscriptionEvent:
        return log_event(
            subscription,
            "payment",
            actor=actor,
            invoice=invoice.pk,
            number=invoice.number,
            amount=str(cents(amount)),
            method=method,
        )

    return atomic_with_retry(write)


__all__ = [
    "NOW",
    "PERIOD_END",
    "ChangeQuote",
    "PlanChange",
    "SubscriptionQuote",
    "cancel",
    "cancel_plan_change",
    "change_plan",
    "end",
    "log_payment",
    "mark_paid",
    "mark_past_due",
    "pause",
    "quote_plan_change",
    "quote_subscription",
    "resume",
    "subscribe",
    "undo_cancel",
]
