"""Plans, subscriptions and booking credits.

Plans on sale are readable by anyone with a token; a venue's team also reads its withdrawn plans and
creates new ones. A subscription is readable by its member, by the members of the organisation paying
for it and by the venue's team; anyone else gets 404. Credits: a person reads their own balances and
ledger; a venue's team reads those of the people of their venues, at their venues only.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import Ge, Le, Len
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import AfterValidator, Field, StringConstraints

from lieux.accounts.models import Organisation, User
from lieux.api.base import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, api, caller, paginate
from lieux.api.schemas import (
    Day,
    DbId,
    ErrorOut,
    Input,
    ResourceRef,
    Slug,
    ValidationErrorOut,
    _no_nul,
)
from lieux.api.venues import resource_by_ref, venue_by_slug, venue_filter
from lieux.core.errors import Forbidden, NotFound, ValidationError
from lieux.memberships.models import (
    CreditEntry,
    CreditLot,
    CreditType,
    DeskMode,
    Interval,
    Plan,
    PlanKind,
    Proration,
    Rollover,
    Subscription,
    SubscriptionStatus,
)
from lieux.memberships.selectors import credits as credit_selectors
from lieux.memberships.selectors import subscriptions as subscription_selectors
from lieux.memberships.services.plans import CreditGrantInput, PriceStepInput, create_plan
from lieux.memberships.services.subscriptions import subscribe
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import VenueRole

router = Router(tags=["Plans, subscriptions and credits"])

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ValidationErrorOut}

Money = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2, allow_inf_nan=False)]
Name = Annotated[str, Len(1, 120), AfterValidator(_no_nul)]
Description = Annotated[str, Len(0, 5000), AfterValidator(_no_nul)]
Label = Annotated[str, Len(0, 80), AfterValidator(_no_nul)]
SmallCount = Annotated[int, Ge(0), Le(3660)]
# People are named by their e-mail in this API, as in the bookings' `booked_by`.
EmailStr = Annotated[str, StringConstraints(pattern=r"^[^@\s\x00]+@[^@\s\x00]+$", max_length=254)]


# --- Plans -----------------------------------------------------------------------------------------------


class PriceStepIn(Input):
    starts_on: Day = Field(description="From this day (local to the venue) the plan costs `net_amount`.")
    net_amount: Money = Field(description='Price per interval excluding VAT, e.g. `"120.00"`.')
    label: Label = ""


class CreditGrantIn(Input):
    credit_type: Slug = Field(description="Code of one of the venue's credit types, e.g. `salle`.")
    quantity: Annotated[Decimal, Field(gt=0, max_digits=8, decimal_places=2, allow_inf_nan=False)]
    rollover: Rollover = Rollover.RESET
    carry_months: Annotated[int, Ge(0), Le(120)] = 0


class PlanIn(Input):
    venue: Slug
    slug: Slug
    name: Name
    description: Description = ""
    kind: PlanKind
    interval: Interval
    vat_rate: Annotated[Decimal, Field(ge=0, max_digits=5, decimal_places=2, allow_inf_nan=False)] = Decimal(
        20
    )
    prices: Annotated[list[PriceStepIn], Len(1, 50)]
    trial_days: SmallCount = 0
    commitment_months: Annotated[int, Ge(0), Le(120)] = 0
    notice_days: SmallCount = 0
    proration: Proration = Proration.NONE
    desk_mode: DeskMode = DeskMode.NONE
    pack_days: Annotated[int, Ge(1), Le(3660)] | None = None
    validity_days: Annotated[int, Ge(1), Le(3660)] | None = None
    members_only: bool = False
    is_active: bool = True
    credit_grants: Annotated[list[CreditGrantIn], Len(0, 20)] = Field(default_factory=list)


class PriceStepOut(Schema):
    starts_on: date
    net_amount: str
    label: str


class CreditGrantOut(Schema):
    credit_type: str
    name: str
    quantity: str
    rollover: str
    carry_months: int


class PlanOut(Schema):
    id: int
    venue: str
    slug: str
    name: str
    description: str
    kind: str
    interval: str
    vat_rate: str
    trial_days: int
    commitment_months: int
    notice_days: int
    proration: str = Field(description="`none` (full periods) or `by_day`.")
    desk_mode: str
    pack_days: int | None
    validity_days: int | None
    members_only: bool
    is_active: bool = Field(description="On sale.")
    price_today: str | None = Field(description="Price per interval excluding VAT in force today.")
    prices: list[PriceStepOut]
    credit_grants: list[CreditGrantOut]


def plan_out(plan: Plan) -> dict[str, Any]:
    step = subscription_selectors.price_today(plan)
    return {
        "id": plan.pk,
        "venue": plan.venue.slug,
        "slug": plan.slug,
        "name": plan.name,
        "description": plan.description,
        "kind": plan.kind,
        "interval": plan.interval,
        "vat_rate": str(plan.vat_rate),
        "trial_days": plan.trial_days,
        "commitment_months": plan.commitment_months,
        "notice_days": plan.notice_days,
        "proration": plan.proration,
        "desk_mode": plan.desk_mode,
        "pack_days": plan.pack_days,
        "validity_days": plan.validity_days,
        "members_only": plan.members_only,
        "is_active": plan.is_active,
        "price_today": str(step.net_amount) if step else None,
        "prices": [
            {"starts_on": p.starts_on, "net_amount": str(p.net_amount), "label": p.label}
            for p in plan.prices.all()
        ],
        "credit_grants": [
            {
                "credit_type": g.credit_type.code,
                "name": g.credit_type.name,
                "quantity": str(g.quantity),
                "rollover": g.rollover,
                "carry_months": g.carry_months,
            }
            for g in plan.credit_grants.all()
        ],
    }


def readable_plans(user, venue_slug: str | None) -> QuerySet[Plan]:
    """Plans on sale everywhere, and every plan of the venues the caller runs."""
    venue = venue_filter(venue_slug)
    staffed = venue_selectors.staffed_venue_ids(user)
    plans = Plan.objects.filter(Q(is_active=True) | Q(venue_id__in=staffed))
    if venue is not None:
        plans = plans.filter(venue=venue)
    return (
        plans.select_related("venue")
        .prefetch_related("prices", "credit_grants__credit_type")
        .order_by("venue__name", "kind", "name", "pk")
    )


def readable_plan(user, plan_id: int) -> Plan:
    plan = readable_plans(user, None).filter(pk=plan_id).first()
    if plan is None:
        raise NotFound(_("No such plan."), code="unknown_plan")
    return plan


@router.get(
    "/plans",
    response={200: list[PlanOut], **ERRORS},
    summary="List plans",
    description="What the venues sell: memberships, coworking subscriptions, day passes and packs, with "
    "their price steps (prices excluding VAT), the VAT rate, trial, commitment, notice, proration policy and "
    "the credits each period grants. Plans on sale for everyone; the team of a venue also sees its plans "
    "no longer on sale. Filter by `venue` (slug) and `kind`.",
)
def list_plans(request: HttpRequest, venue: Slug | None = None, kind: PlanKind | None = None):
    plans = readable_plans(caller(request), venue)
    if kind:
        plans = plans.filter(kind=kind)
    return [plan_out(p) for p in plans]


@router.get(
    "/plans/{plan_id}",
    response={200: PlanOut, **ERRORS},
    summary="One plan",
    description="A plan on sale, or any plan of a venue the caller runs; 404 `unknown_plan` otherwise.",
)
def get_plan(request: HttpRequest, plan_id: DbId):
    return plan_out(readable_plan(caller(request), plan_id))


def _credit_type(venue, code: str) -> CreditType:
    found = CreditType.objects.filter(venue=venue, code=code).first()
    if found is None:
        raise ValidationError(
            _("No credit type %(code)s at this venue.") % {"code": code},
            code="unknown_credit_type",
            field="credit_grants",
        )
    return found


@router.post(
    "/plans",
    response={201: PlanOut, **ERRORS},
    summary="Create a plan",
    description="For the team of `venue`: a new plan with its price steps (at least one; a later step "
    "replaces the price from its date, e.g. an introductory rate then the full rate) and the credits it "
    "grants each period. 403 `not_venue_staff` for anyone else; 422 `invalid_vat_rate` (not a French rate), "
    "`invalid_interval` (a membership or subscription renews monthly or yearly, a pass or pack is sold "
    "`once`), `pack_days_required`, `duplicate_price_step`, `slug_taken`, `unknown_credit_type`… A refused "
    "request writes nothing.",
)
def post_plan(request: HttpRequest, payload: PlanIn):
    venue = venue_by_slug(payload.venue)
    user = caller(request)
    grants = [
        CreditGrantInput(_credit_type(venue, g.credit_type), g.quantity, g.rollover, g.carry_months)
        for g in payload.credit_grants
    ]
    plan = create_plan(
        venue=venue,
        actor=user,
        slug=payload.slug,
        name=payload.name,
        kind=payload.kind,
        interval=payload.interval,
        vat_rate=payload.vat_rate,
        prices=[PriceStepInput(p.starts_on, p.net_amount, p.label) for p in payload.prices],
        credit_grants=grants,
        description=payload.description,
        trial_days=payload.trial_days,
        commitment_months=payload.commitment_months,
        notice_days=payload.notice_days,
        proration=payload.proration,
        desk_mode=payload.desk_mode,
        pack_days=payload.pack_days,
        validity_days=payload.validity_days,
        members_only=payload.members_only,
        is_active=payload.is_active,
    )
    return Status(201, plan_out(readable_plan(user, plan.pk)))


# --- Subscriptions ---------------------------------------------------------------------------------------


class SubscriptionIn(Input):
    plan: DbId
    member: EmailStr | None = Field(
        None,
        description="E-mail of the person subscribed; default: the caller. The venue's team may subscribe "
        "anyone, a member of an organisation the organisation's members (on its account).",
    )
    payer_organisation: DbId | None = Field(None, description="Id of the organisation that pays.")
    starts_on: Day | None = Field(None, description="First day, local to the venue; default: today.")
    desk: ResourceRef | None = Field(None, description="The desk of a fixed-desk plan.")


class PlanBriefOut(Schema):
    id: int
    slug: str
    name: str


class PersonBriefOut(Schema):
    email: str
    name: str


class OrganisationBriefOut(Schema):
    id: int
    name: str


class SubscriptionOut(Schema):
    id: int
    venue: str
    plan: PlanBriefOut
    member: PersonBriefOut
    payer_organisation: OrganisationBriefOut | None
    status: str = Field(
        description="`trial`, `active`, `paused`, `cancelling` (ends at period end), `past_due` or `ended`."
    )
    started_on: date
    trial_ends_on: date | None
    current_period_start: date
    current_period_end: date = Field(description="Last day of the current period (inclusive).")
    commitment_ends_on: date | None
    ends_on: date | None
    next_plan: PlanBriefOut | None = Field(description="The plan taking over at the end of the period.")
    desk: str | None = Field(description="`<venue-slug>/<resource-slug>` of the fixed desk.")


class EventOut(Schema):
    at: datetime
    kind: str
    from_status: str
    to_status: str
    data: dict[str, Any]


class SubscriptionDocumentOut(Schema):
    id: int
    number: str | None
    kind: str
    status: str
    service_from: date
    service_to: date
    gross_amount: str


class SubscriptionDetailOut(SubscriptionOut):
    events: list[EventOut] = Field(description="Every transition, invoice and payment, oldest first.")
    documents: list[SubscriptionDocumentOut] = Field(description="Its invoices and credit notes.")
    price_today: PriceStepOut | None
    upcoming_prices: list[PriceStepOut]


class SubscriptionPageOut(Schema):
    count: int
    next: str | None
    previous: str | None
    results: list[SubscriptionOut]


def _plan_brief(plan: Plan | None) -> dict[str, Any] | None:
    return None if plan is None else {"id": plan.pk, "slug": plan.slug, "name": plan.name}


def subscription_out(subscription: Subscription) -> dict[str, Any]:
    person, org = subscription.member, subscription.payer_organisation
    return {
        "id": subscription.pk,
        "venue": subscription.venue.slug,
        "plan": _plan_brief(subscription.plan),
        "member": {"email": person.email, "name": person.get_full_name()},
        "payer_organisation": {"id": org.pk, "name": org.name} if org else None,
        "status": subscription.status,
        "started_on": subscription.started_on,
        "trial_ends_on": subscription.trial_ends_on,
        "current_period_start": subscription.current_period_start,
        "current_period_end": subscription.current_period_end,
        "commitment_ends_on": subscription.commitment_ends_on,
        "ends_on": subscription.ends_on,
        "next_plan": _plan_brief(subscription.next_plan),
        "desk": f"{subscription.venue.slug}/{subscription.desk.slug}" if subscription.desk else None,
    }


def _step_out(step) -> dict[str, Any] | None:
    if step is None:
        return None
    return {"starts_on": step.starts_on, "net_amount": str(step.net_amount), "label": step.label}


def readable_subscription(user, subscription_id: int) -> subscription_selectors.SubscriptionDetail:
    """The detail view the caller is entitled to: the team's (any of their venue's subscriptions) or the
    person's own (theirs and those their organisations pay)."""
    staffed = venue_selectors.staffed_venue_ids(user)
    found = (
        Subscription.objects.filter(pk=subscription_id, venue_id__in=staffed).select_related("venue").first()
    )
    if found is not None:
        return subscription_selectors.subscription_detail(subscription_id, venue=found.venue)
    return subscription_selectors.subscription_detail(subscription_id, member=user)


def subscription_detail_out(detail: subscription_selectors.SubscriptionDetail) -> dict[str, Any]:
    return {
        **subscription_out(detail.subscription),
        "events": [
            {
                "at": e.at,
                "kind": e.kind,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "data": e.data,
            }
            for e in detail.events
        ],
        "documents": [
            {
                "id": d.pk,
                "number": d.number,
                "kind": d.kind,
                "status": d.status,
                "service_from": d.service_from,
                "service_to": d.service_to,
                "gross_amount": str(d.gross_amount),
            }
            for d in detail.documents
        ],
        "price_today": _step_out(detail.current_price),
        "upcoming_prices": [_step_out(s) for s in detail.upcoming_prices],
    }


def _person_by_email(email: str) -> User:
    person = User.objects.filter(email__iexact=email).first()
    if person is None:
        raise NotFound(_("No such person."), code="unknown_person")
    return person


@router.post(
    "/subscriptions",
    response={201: SubscriptionDetailOut, **ERRORS},
    summary="Subscribe",
    description="Subscribe the caller (or `member`) to `plan` from `starts_on` (default: today), with a "
    "trial when the plan has one and the person never had it. The first period is invoiced at once, to "
    "`payer_organisation` when an organisation pays. 404 `unknown_plan`, `unknown_organisation`, "
    "`unknown_person`; 403 `not_your_subscription`; 409 `already_subscribed`, `plan_not_on_sale`, "
    "`members_only`, `booking_overlap` (the fixed desk is taken); 422 `start_in_past`, `desk_required`, "
    "`not_in_organisation`. A refused request writes nothing.",
)
def post_subscription(request: HttpRequest, payload: SubscriptionIn):
    user = caller(request)
    plan = readable_plan(user, payload.plan)
    organisation = None
    if payload.payer_organisation is not None:
        organisation = Organisation.objects.filter(pk=payload.payer_organisation).first()
        if organisation is None:
            raise NotFound(_("No such organisation."), code="unknown_organisation")
    member = user
    if payload.member is not None and payload.member.lower() != user.email.lower():
        may_name_someone = venue_selectors.is_staff_of(user, plan.venue_id) or (
            organisation is not None and organisation.members.filter(pk=user.pk).exists()
        )
        if not may_name_someone:
            # Checked before looking the address up, so nobody learns who has an account.
            raise Forbidden(_("You may only subscribe yourself."), code="not_your_subscription")
        member = _person_by_email(payload.member)
    desk = resource_by_ref(payload.desk) if payload.desk else None
    subscription = subscribe(
        plan=plan,
        member=member,
        payer_organisation=organisation,
        starts_on=payload.starts_on,
        desk=desk,
        actor=user,
    )
    return Status(201, subscription_detail_out(readable_subscription(user, subscription.pk)))


@router.get(
    "/subscriptions",
    response={200: SubscriptionPageOut, **ERRORS},
    summary="List subscriptions",
    description="Without `venue`: the caller's subscriptions and those their organisations pay for. With "
    "`venue` (a venue they manage or staff): every subscription of that venue; 404 `unknown_venue` for a "
    "venue they do not run. Filter by `status`; paginated with `limit` and `offset`.",
)
def list_subscriptions(
    request: HttpRequest,
    venue: Slug | None = None,
    status: SubscriptionStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
):
    user = caller(request)
    if venue is None:
        found = subscription_selectors.subscriptions_for(
            user, include_organisations=True, status=str(status) if status else None
        )
    else:
        place = venue_by_slug(venue)
        if not venue_selectors.is_staff_of(user, place.pk):
            raise NotFound(_("No such venue."), code="unknown_venue")
        found = subscription_selectors.venue_subscriptions(place, status=str(status) if status else None)
    return paginate(request, found, limit=limit, offset=offset, serialize=subscription_out)


@router.get(
    "/subscriptions/{subscription_id}",
    response={200: SubscriptionDetailOut, **ERRORS},
    summary="One subscription",
    description="The subscription with its event log (every transition, invoice and payment), its "
    "documents and its price steps. For its member, the members of the organisation paying and the venue's "
    "team; 404 `unknown_subscription` for anyone else.",
)
def get_subscription(request: HttpRequest, subscription_id: DbId):
    return subscription_detail_out(readable_subscription(caller(request), subscription_id))


# --- Credits ---------------------------------------------------------------------------------------------


class CreditTypeOut(Schema):
    code: str
    name: str


class BalanceOut(Schema):
    venue: str
    credit_type: CreditTypeOut
    remaining: str
    next_expiry: date | None
    expiring_soon: str = Field(description="Part of `remaining` that expires within 30 days.")


class LedgerEntryOut(Schema):
    at: datetime
    venue: str
    credit_type: CreditTypeOut
    kind: str = Field(description="`grant`, `consume`, `refund` or `expire`.")
    quantity: str = Field(description="Signed: negative when credits were used or expired.")
    reference: str = Field(description="What used or gave back the credits, e.g. `booking:42`.")
    note: str
    expires_on: date | None


class LedgerPageOut(Schema):
    count: int
    next: str | None
    previous: str | None
    results: list[LedgerEntryOut]


class CreditsOut(Schema):
    person: PersonBriefOut
    balances: list[BalanceOut]
    ledger: LedgerPageOut


def ledger_entry_out(entry: CreditEntry) -> dict[str, Any]:
    lot = entry.lot
    return {
        "at": entry.at.astimezone(lot.venue.tz),
        "venue": lot.venue.slug,
        "credit_type": {"code": lot.credit_type.code, "name": lot.credit_type.name},
        "kind": entry.kind,
        "quantity": str(entry.quantity),
        "reference": entry.reference,
        "note": entry.note,
        "expires_on": lot.expires_on,
    }


def _known_at(person: User, venue_ids: set[int]) -> bool:
    """Whether a venue's team has any business with `person`: a role, a subscription or credits there."""
    return (
        VenueRole.objects.filter(user=person, venue_id__in=venue_ids).exists()
        or Subscription.objects.filter(member=person, venue_id__in=venue_ids).exists()
        or CreditLot.objects.filter(person=person, venue_id__in=venue_ids).exists()
    )


@router.get(
    "/credits",
    response={200: CreditsOut, **ERRORS},
    summary="Credit balances and ledger",
    description="Booking credits of `person` (e-mail; default: the caller): what is left per venue and "
    "credit type with the next expiry, and every movement (granted, used, given back, expired), newest "
    "first, paginated with `limit` and `offset`. A person reads their own; a venue's team reads those of the "
    "people of their venues, at their venues only. 404 `unknown_person` otherwise.",
)
def get_credits(
    request: HttpRequest,
    person: EmailStr | None = None,
    venue: Slug | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
):
    user = caller(request)
    place = venue_filter(venue)
    if person is None or person.lower() == user.email.lower():
        subject: User = user
        balances = credit_selectors.balances(user, place)
        entries = credit_selectors.ledger(user, place)
    else:
        staffed = venue_selectors.staffed_venue_ids(user)
        if place is not None:
            staffed &= {place.pk}
        found = User.objects.filter(email__iexact=person).first()
        if not staffed or found is None or not _known_at(found, staffed):
            raise NotFound(_("No such person."), code="unknown_person")
        subject = found
        balances = [b for b in credit_selectors.balances(found, place) if b.venue.pk in staffed]
        entries = credit_selectors.ledger(found, place).filter(lot__venue_id__in=staffed)
    return {
        "person": {"email": subject.email, "name": subject.get_full_name()},
        "balances": [
            {
                "venue": b.venue.slug,
                "credit_type": {"code": b.credit_type.code, "name": b.credit_type.name},
                "remaining": str(b.remaining),
                "next_expiry": b.next_expiry,
                "expiring_soon": str(b.expiring_soon),
            }
            for b in balances
        ],
        "ledger": paginate(request, entries, limit=limit, offset=offset, serialize=ledger_entry_out),
    }


api.add_router("", router)
