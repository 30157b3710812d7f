"""Creating and changing a venue's plans, with their price steps and the credits they grant.

A price already in force is history: invoices were computed from it, so it is never edited or removed. A
new price is a new step from a future date (an introductory rate that becomes the full rate, a solidarity
rate ending). A plan's kind and billing interval are fixed once someone subscribed to it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from lieux.billing.rules import FRENCH_VAT_RATES
from lieux.core import audit
from lieux.core.errors import Conflict, Forbidden, NotFound, ValidationError
from lieux.core.money import CENT
from lieux.memberships.models import (
    CreditGrant,
    CreditType,
    DeskMode,
    Interval,
    Plan,
    PlanKind,
    PlanPrice,
    Proration,
    Rollover,
)
from lieux.memberships.services.invoicing import local_today
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import Venue


@dataclass(frozen=True)
class PriceStepInput:
    starts_on: date
    net_amount: Decimal
    label: str = ""


@dataclass(frozen=True)
class CreditGrantInput:
    credit_type: CreditType
    quantity: Decimal
    rollover: str = Rollover.RESET
    carry_months: int = 0


EDITABLE_FIELDS = (
    "name",
    "description",
    "kind",
    "interval",
    "vat_rate",
    "trial_days",
    "commitment_months",
    "notice_days",
    "proration",
    "desk_mode",
    "pack_days",
    "validity_days",
    "members_only",
    "is_active",
)
# Once subscriptions exist, these shape their periods and invoices: a different offer is a new plan.
FIXED_ONCE_SOLD = ("kind", "interval")
RECURRING_KINDS = (PlanKind.MEMBERSHIP_FEE, PlanKind.SUBSCRIPTION)
ONCE_KINDS = (PlanKind.DAY_PASS, PlanKind.PACK)


def _ensure_staff(actor: Any, venue_id: int) -> None:
    if actor is None:  # the platform itself (set-up scripts, imports)
        return
    if not venue_selectors.is_staff_of(actor, venue_id):
        raise Forbidden(_("Only the venue's staff may change its plans."), code="not_venue_staff")


def _invalid(message: str, code: str, field: str) -> ValidationError:
    return ValidationError(message, code=code, field=field)


def _money(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _invalid(_("Not an amount."), "invalid_amount", field) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT):
        raise _invalid(_("An amount must be positive, in euros and cents."), "invalid_amount", field)
    return amount.quantize(CENT)


def validate_plan(plan: Plan) -> None:
    """The plan's own fields make sense together; raises ValidationError naming the field at fault."""
    if not plan.name.strip():
        raise _invalid(_("A plan needs a name."), "name_required", "name")
    try:
        validate_slug(plan.slug)
    except DjangoValidationError:
        raise _invalid(_("Use letters, digits, hyphens and underscores."), "invalid_slug", "slug") from None
    choices = {
        "kind": PlanKind.values,
        "interval": Interval.values,
        "proration": Proration.values,
        "desk_mode": DeskMode.values,
    }
    for field, allowed in choices.items():
        if getattr(plan, field) not in allowed:
            raise _invalid(_("Not a valid choice."), f"invalid_{field}", field)
    try:
        rate = Decimal(str(plan.vat_rate))
    except (InvalidOperation, ValueError):
        rate = Decimal(-1)
    if rate not in FRENCH_VAT_RATES:
        raise _invalid(
            _("%(rate)s %% is not a French VAT rate.") % {"rate": plan.vat_rate},
            "invalid_vat_rate",
            "vat_rate",
        )
    plan.vat_rate = rate
    recurring = plan.kind in RECURRING_KINDS
    if recurring and plan.interval == Interval.ONCE:
        raise _invalid(
            _("A membership or a subscription renews monthly or yearly."), "invalid_interval", "interval"
        )
    if not recurring and plan.interval != Interval.ONCE:
        raise _invalid(_("Day passes and packs are sold once."), "invalid_interval", "interval")
    if plan.kind == PlanKind.PACK:
        for field in ("pack_days", "validity_days"):
            if not getattr(plan, field):
                raise _invalid(
                    _("A pack needs its number of days and its validity."), f"{field}_required", field
                )
        if (
            plan.validity_days is not None
            and plan.pack_days is not None
            and plan.validity_days < plan.pack_days
        ):
            raise _invalid(
                _("A pack must stay valid at least as many days as it holds."),
                "validity_too_short",
                "validity_days",
            )
    if recurring:
        for field in ("pack_days", "validity_days"):
            if getattr(plan, field) is not None:
                raise _invalid(_("Only day passes and packs have days and a validity."), "not_a_pack", field)
    else:
        for field in ("trial_days", "commitment_months", "notice_days"):
            if getattr(plan, field):
                raise _invalid(
                    _("Only renewing plans have a trial, a commitment or a notice."), "not_recurring", field
                )
    if plan.desk_mode == DeskMode.FIXED and plan.kind != PlanKind.SUBSCRIPTION:
        raise _invalid(
            _("Only a coworking subscription comes with a fixed desk."),
            "desk_needs_subscription",
            "desk_mode",
        )


def _clean_prices(prices: Sequence[PriceStepInput]) -> list[PriceStepInput]:
    if not prices:
        raise _invalid(_("A plan needs at least one price."), "price_required", "prices")
    seen: set[date] = set()
    cleaned = []
    for step in prices:
        if step.starts_on in seen:
            raise _invalid(_("Two prices start on the same day."), "duplicate_price_step", "prices")
        seen.add(step.starts_on)
        cleaned.append(PriceStepInput(step.starts_on, _money(step.net_amount, "prices"), step.label[:80]))
    return sorted(cleaned, key=lambda s: s.starts_on)


def _clean_grants(venue: Venue, grants: Sequence[CreditGrantInput]) -> list[CreditGrantInput]:
    seen: set[int] = set()
    cleaned = []
    for grant in grants:
        if grant.credit_type.venue_id != venue.pk:
            raise _invalid(
                _("This credit type belongs to another venue."), "credit_type_venue", "credit_grants"
            )
        if grant.credit_type.pk in seen:
            raise _invalid(
                _("A plan grants each credit type once."), "duplicate_credit_grant", "credit_grants"
            )
        seen.add(grant.credit_type.pk)
        quantity = _money(grant.quantity, "credit_grants")
        if quantity == 0:
            raise _invalid(
                _("A plan grants a positive number of credits."), "invalid_quantity", "credit_grants"
            )
        if grant.rollover not in Rollover.values:
            raise _invalid(_("Not a valid choice."), "invalid_rollover", "credit_grants")
        if grant.carry_months and grant.rollover != Rollover.CARRY:
            raise _invalid(
                _("Only carried-over credits have a carry-over length."),
                "carry_without_rollover",
                "credit_grants",
            )
        cleaned.append(CreditGrantInput(grant.credit_type, quantity, grant.rollover, grant.carry_months))
    return cleaned


def _write_prices(plan: Plan, prices: list[PriceStepInput]) -> None:
    PlanPrice.objects.filter(plan=plan).delete()
    PlanPrice.objects.bulk_create(
        PlanPrice(plan=plan, starts_on=s.starts_on, net_amount=s.net_amount, label=s.label) for s in prices
    )


def _write_grants(plan: Plan, grants: list[CreditGrantInput]) -> None:
    CreditGrant.objects.filter(plan=plan).delete()
    CreditGrant.objects.bulk_create(
        CreditGrant(
            plan=plan,
            credit_type=g.credit_type,
            quantity=g.quantity,
            rollover=g.rollover,
            carry_months=g.carry_months,
        )
        for g in grants
    )


def _save(plan: Plan) -> None:
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:
        if Plan.objects.filter(venue_id=plan.venue_id, slug=plan.slug).exclude(pk=plan.pk).exists():
            raise _invalid(
                _("Another plan of this venue has this short name."), "slug_taken", "slug"
            ) from None
        raise


def create_plan(
    *,
    venue: Venue,
    actor: Any,
    slug: str,
    name: str,
    kind: str,
    interval: str,
    prices: Sequence[PriceStepInput],
    vat_rate: Decimal = Decimal(20),
    credit_grants: Sequence[CreditGrantInput] = (),
    **options: Any,
) -> Plan:
    """A new plan with its price steps and credit grants. `options` are the other plan fields (trial_days,
    commitment_months, notice_days, proration, desk_mode, pack_days, validity_days, members_only…)."""
    _ensure_staff(actor, venue.pk)
    unknown = set(options) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unknown plan fields: {sorted(unknown)}")
    plan = Plan(venue=venue, slug=slug, name=name, kind=kind, interval=interval, vat_rate=vat_rate, **options)
    validate_plan(plan)
    steps = _clean_prices(prices)
    grants = _clean_grants(venue, credit_grants)
    if Plan.objects.filter(venue=venue, slug=slug).exists():
        raise _invalid(_("Another plan of this venue has this short name."), "slug_taken", "slug")
    with transaction.atomic():
        _save(plan)
        _write_prices(plan, steps)
        _write_grants(plan, grants)
        audit.record(
            "memberships.plan.created",
            plan,
            actor=actor,
            venue_id=venue.pk,
            slug=plan.slug,
            kind=plan.kind,
            interval=plan.interval,
            vat_rate=str(plan.vat_rate),
            prices=[[s.starts_on.isoformat(), str(s.net_amount)] for s in steps],
        )
    return plan


def update_plan(
    *,
    plan: Plan,
    actor: Any,
    prices: Sequence[PriceStepInput] | None = None,
    credit_grants: Sequence[CreditGrantInput] | None = None,
    **changes: Any,
) -> Plan:
    """Change a plan's fields; `prices` and `credit_grants`, when given, replace the lists. Steps already in
    force stay as they are (a new price is a new step)."""
    if actor is not None and not venue_selectors.is_staff_of(actor, plan.venue_id):
        raise NotFound(_("No such plan."), code="unknown_plan")
    unknown = set(changes) - set(EDITABLE_FIELDS) - {"slug"}
    if unknown:
        raise TypeError(f"unknown plan fields: {sorted(unknown)}")
    with transaction.atomic():
        current = Plan.objects.select_for_update().select_related("venue").get(pk=plan.pk)
        sold = current.subscriptions.exists()
        for field in FIXED_ONCE_SOLD:
            if field in changes and changes[field] != getattr(current, field) and sold:
                raise Conflict(
                    _("Members subscribed to this plan: create a new plan instead."),
                    code="plan_in_use",
                    field=field,
                )
        before = {field: getattr(current, field) for field in changes}
        for field, value in changes.items():
            setattr(current, field, value)
        validate_plan(current)
        steps = None
        if prices is not None:
            steps = _clean_prices(prices)
            _refuse_rewriting_history(current, steps, sold=sold)
        grants = _clean_grants(current.venue, credit_grants) if credit_grants is not None else None
        _save(current)
        if steps is not None:
            _write_prices(current, steps)
        if grants is not None:
            _write_grants(current, grants)
        audit.record(
            "memberships.plan.updated",
            current,
            actor=actor,
            venue_id=current.venue_id,
            changes={
                f: [str(before[f]), str(getattr(current, f))]
                for f in changes
                if before[f] != getattr(current, f)
            },
            prices=None if steps is None else [[s.starts_on.isoformat(), str(s.net_amount)] for s in steps],
            credit_grants=None
            if grants is None
            else {str(g.credit_type.pk): str(g.quantity) for g in grants},
        )
    return current


def _refuse_rewriting_history(plan: Plan, steps: list[PriceStepInput], *, sold: bool) -> None:
    """Periods already invoiced were priced by the steps in force: those stay, and once the plan is sold no
    new step may start in the past (it would reprice invoiced periods)."""
    today = local_today(plan.venue)
    wanted = {s.starts_on: s.net_amount for s in steps}
    in_force = {p.starts_on: p.net_amount for p in plan.prices.filter(starts_on__lte=today)}
    for day, amount in in_force.items():
        if wanted.get(day) != amount:
            raise _invalid(
                _("The price from %(day)s is already in force; add a new step from a later date instead.")
                % {"day": f"{day:%d/%m/%Y}"},
                "price_step_in_force",
                "prices",
            )
    if sold and any(day <= today and day not in in_force for day in wanted):
        raise _invalid(
            _("A new price starts after today: invoiced periods keep their price."),
            "price_step_in_past",
            "prices",
        )
