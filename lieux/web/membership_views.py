"""Pages about plans, subscriptions and booking credits: a member's own (subscribe, change plan with the
money shown before confirming, give notice, credits) and a venue team's (plans with their price steps,
the venue's subscriptions and what may be done to them).

Each page reads through the memberships selectors and writes through one service call; a refused call is
shown on the form with the status of the domain error, and nothing is written."""

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from lieux.core.errors import DomainError, NotFound
from lieux.memberships.models import CreditType, Plan, PlanPrice, Subscription, SubscriptionStatus
from lieux.memberships.rules import periods, states
from lieux.memberships.selectors import credits as credit_selectors
from lieux.memberships.selectors import subscriptions as selectors
from lieux.memberships.services import plans as plan_services
from lieux.memberships.services import subscriptions as services
from lieux.memberships.services.invoicing import anchor_of, local_today, steps_of
from lieux.venues.models import Venue
from lieux.web import charts, reads
from lieux.web.forms_billing import (
    CreditGrantFormSet,
    PlanChangeForm,
    PlanForm,
    PriceStepFormSet,
    ReasonForm,
    SubscribeForm,
    SubscriptionActionForm,
    SubscriptionFilterForm,
    add_service_error,
    filled_forms,
)
from lieux.web.pages import FORM_INVALID, page_of, query_without_page, staffed_venue, viewer

LEDGER_PAGE = 30
SUBSCRIPTIONS_PAGE = 50


# --- Plans on sale (public) ------------------------------------------------------------------------------


def venue_plans(request: HttpRequest, venue_slug: str) -> HttpResponse:
    """What a venue sells, with the price in force today and the steps to come."""
    venue = get_object_or_404(Venue, slug=venue_slug)
    today = local_today(venue)
    offers = [
        (plan, periods.step_at(steps_of(plan), today), periods.upcoming_steps(steps_of(plan), today))
        for plan in selectors.plans_on_sale(venue).select_related("venue")
    ]
    return render(request, "web/member/plans.html", {"venue": venue, "offers": offers})


# --- A member's subscriptions ----------------------------------------------------------------------------


def _mine(request: HttpRequest, pk: int) -> selectors.SubscriptionDetail:
    """One of the viewer's subscriptions (or one their organisation pays), else 404."""
    try:
        return selectors.subscription_detail(pk, member=viewer(request))
    except NotFound as error:
        raise Http404() from error


@login_required
def my_subscriptions(request: HttpRequest) -> HttpResponse:
    found = list(
        selectors.subscriptions_for(viewer(request), include_organisations=True).prefetch_related(
            Prefetch("plan__prices", queryset=PlanPrice.objects.order_by("starts_on"))
        )
    )
    rows = []
    for subscription in found:
        today = local_today(subscription.venue)
        rows.append(
            {
                "subscription": subscription,
                "price": periods.step_at(steps_of(subscription.plan), today),
                "live": subscription.status != states.ENDED,
                "changeable": subscription.status in (states.TRIAL, states.ACTIVE)
                and subscription.plan.interval != periods.ONCE,
                "cancellable": subscription.status not in (states.ENDED, states.CANCELLING)
                and subscription.plan.interval != periods.ONCE,
                "ending": subscription.ends_on is not None and subscription.status != states.ENDED,
            }
        )
    context = {
        "live": [r for r in rows if r["live"]],
        "ended": [r for r in rows if not r["live"]],
    }
    return render(request, "web/member/subscriptions.html", {**context, "tab": "subscriptions"})


@login_required
def my_subscription(request: HttpRequest, pk: int) -> HttpResponse:
    detail = _mine(request, pk)
    return render(
        request,
        "web/member/subscription.html",
        {"detail": detail, "s": detail.subscription, "tab": "subscriptions"},
    )


def _plan_on_sale(plan_pk: int) -> Plan:
    plan = (
        Plan.objects.filter(pk=plan_pk, is_active=True)
        .select_related("venue")
        .prefetch_related(Prefetch("prices", queryset=PlanPrice.objects.order_by("starts_on")))
        .first()
    )
    if plan is None:
        raise Http404()
    return plan


@login_required
def subscribe(request: HttpRequest, plan_pk: int) -> HttpResponse:
    """The terms and the first invoice of a plan for the viewer, then the subscription on confirmation.
    Changing the start date (GET) shows the terms again; nothing is written before the POST."""
    plan = _plan_on_sale(plan_pk)
    organisations = reads.organisations_of(viewer(request))
    status = 200
    if request.method == "POST":
        form = SubscribeForm(request.POST, organisations=organisations)
        if form.is_valid():
            try:
                subscription = services.subscribe(
                    plan=plan,
                    member=viewer(request),
                    payer_organisation=form.cleaned_data.get("payer_organisation"),
                    starts_on=form.cleaned_data.get("starts_on"),
                    actor=viewer(request),
                )
            except DomainError as error:
                add_service_error(form, error)
                status = error.status
            else:
                messages.success(request, _("You are subscribed to %(plan)s.") % {"plan": plan.name})
                return redirect("web:my_subscription", pk=subscription.pk)
        else:
            status = FORM_INVALID
    else:
        form = SubscribeForm(request.GET or None, organisations=organisations)
        if request.GET and not form.is_valid():
            status = FORM_INVALID
    starts_on = (
        form.cleaned_data.get("starts_on") if form.is_bound and hasattr(form, "cleaned_data") else None
    )
    quote = None
    try:
        quote = services.quote_subscription(plan, starts_on, member=viewer(request))
    except DomainError as error:
        if not form.errors:
            add_service_error(form, error)
            status = error.status
    context = {"plan": plan, "venue": plan.venue, "form": form, "quote": quote, "tab": "subscriptions"}
    return render(request, "web/member/subscribe.html", context, status=status)


def _other_plans(subscription: Subscription):
    return (
        selectors.plans_on_sale(subscription.venue)
        .exclude(pk=subscription.plan_id)
        .exclude(interval=periods.ONCE)
        .filter(
            kind=subscription.plan.kind
        )  # a subscription for a subscription, a membership for a membership
        .select_related("venue")
    )


@login_required
def change_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose a plan and when; see what it credits and charges; confirm. The confirmation goes through only
    if the amounts are still those shown (a price step or a payment may have moved them meanwhile)."""
    detail = _mine(request, pk)
    subscription = detail.subscription
    plans = _other_plans(subscription)
    quote = None
    status = 200
    if request.method != "POST":
        form = PlanChangeForm(plans=plans)
        return render(
            request,
            "web/member/change_plan.html",
            {"s": subscription, "form": form, "quote": None, "plans": list(plans), "tab": "subscriptions"},
        )
    form = PlanChangeForm(request.POST, plans=plans)
    if not form.is_valid():
        status = FORM_INVALID
    else:
        data = form.cleaned_data
        try:
            quote = services.quote_plan_change(subscription, data["plan"], data["when"])
        except DomainError as error:
            add_service_error(form, error)
            status = error.status
        else:
            seen = (data.get("seen_credit"), data.get("seen_charge"))
            if "confirm" in request.POST:
                if seen == (quote.credit.gross_amount, quote.charge.gross_amount):
                    try:
                        result = services.change_plan(
                            subscription=subscription,
                            new_plan=data["plan"],
                            when=data["when"],
                            actor=viewer(request),
                            expected=quote,
                        )
                    except DomainError as error:
                        add_service_error(form, error)
                        status = error.status
                    else:
                        _changed_message(request, result)
                        return redirect("web:my_subscription", pk=subscription.pk)
                else:
                    messages.warning(request, _("The amounts changed since: look at them again."))
            # Show (again) the amounts, with the values the confirmation will be checked against.
            form = PlanChangeForm(
                {
                    "plan": data["plan"].pk,
                    "when": data["when"],
                    "seen_credit": quote.credit.gross_amount,
                    "seen_charge": quote.charge.gross_amount,
                },
                plans=plans,
            )
            form.is_valid()
    context = {"s": subscription, "form": form, "quote": quote, "plans": list(plans), "tab": "subscriptions"}
    return render(request, "web/member/change_plan.html", context, status=status)


def _changed_message(request: HttpRequest, result: services.PlanChange) -> None:
    quote = result.quote
    if quote.when == services.PERIOD_END:
        messages.success(
            request,
            _("Your plan changes on %(day)s.") % {"day": date_format(quote.effective_on, "j F Y")},
        )
    else:
        messages.success(request, _("Your plan is changed."))


def _earliest_end(subscription: Subscription) -> date | None:
    plan = subscription.plan
    if plan.interval == periods.ONCE or subscription.status == states.ENDED:
        return None
    if subscription.status == states.TRIAL:
        return subscription.trial_ends_on
    return periods.earliest_end(
        today=local_today(subscription.venue),
        anchor=anchor_of(subscription),
        interval=plan.interval,
        notice_days=plan.notice_days,
        commitment_ends_on=subscription.commitment_ends_on,
    )


@login_required
def cancel_subscription(request: HttpRequest, pk: int) -> HttpResponse:
    """Give notice: a confirmation page saying when it would end, then the notice itself on POST."""
    subscription = _mine(request, pk).subscription
    form = ReasonForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                ended = services.cancel(
                    subscription=subscription,
                    actor=viewer(request),
                    at_period_end=True,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as error:
                add_service_error(form, error)
                status = error.status
            else:
                messages.success(
                    request,
                    _("Your subscription ends on %(day)s.")
                    % {"day": date_format(ended.ends_on or "", "j F Y")},
                )
                return redirect("web:my_subscription", pk=subscription.pk)
        else:
            status = FORM_INVALID
    context = {
        "s": subscription,
        "form": form,
        "earliest_end": _earliest_end(subscription),
        "tab": "subscriptions",
    }
    return render(request, "web/member/cancel.html", context, status=status)


@login_required
@require_POST
def undo_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _mine(request, pk).subscription
    try:
        services.undo_cancel(subscription=subscription, actor=viewer(request))
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Your subscription goes on."))
    return redirect("web:my_subscription", pk=subscription.pk)


# --- A member's credits ----------------------------------------------------------------------------------


@login_required
def my_credits(request: HttpRequest) -> HttpResponse:
    balances = credit_selectors.balances(viewer(request))
    meters = charts.meters(
        [(f"{b.credit_type.name} — {b.venue.name}", b.remaining, b.expiring_soon) for b in balances]
    )
    context = {
        "rows": list(zip(balances, meters, strict=True)),
        "ledger": page_of(request, credit_selectors.ledger(viewer(request)), LEDGER_PAGE),
        "soon_days": credit_selectors.SOON_DAYS,
        "tab": "credits",
    }
    return render(request, "web/member/credits.html", context)


# --- A venue's plans -------------------------------------------------------------------------------------


@login_required
def manage_plans(request: HttpRequest, venue_slug: str) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    today = local_today(venue)
    plans = (
        selectors.venue_plans(venue)
        .annotate(
            live_count=Count("subscriptions", filter=~Q(subscriptions__status=SubscriptionStatus.ENDED))
        )
        # The Pass Interlieux column: each plan's network access and its venues, in two queries.
        .prefetch_related("network_access__host_venues")
    )
    rows = [
        (plan, periods.step_at(steps_of(plan), today), periods.upcoming_steps(steps_of(plan), today))
        for plan in plans
    ]
    return render(request, "web/manage/plans.html", {"venue": venue, "rows": rows, "tab": "plans"})


def _plan_forms(request: HttpRequest, venue: Venue, plan: Plan | None):
    credit_types = CreditType.objects.filter(venue=venue).order_by("name")
    grant_kwargs = {"credit_types": credit_types}
    if request.method == "POST":
        return (
            PlanForm(request.POST),
            PriceStepFormSet(request.POST, prefix="prices"),
            CreditGrantFormSet(request.POST, prefix="grants", form_kwargs=grant_kwargs),
            credit_types,
        )
    if plan is None:
        return (
            PlanForm(initial={"vat_rate": "20", "is_active": True}),
            PriceStepFormSet(prefix="prices"),
            CreditGrantFormSet(prefix="grants", form_kwargs=grant_kwargs),
            credit_types,
        )
    prices = [
        {"starts_on": p.starts_on, "net_amount": p.net_amount, "label": p.label} for p in plan.prices.all()
    ]
    grants = [
        {
            "credit_type": g.credit_type_id,
            "quantity": g.quantity,
            "rollover": g.rollover,
            "carry_months": g.carry_months,
        }
        for g in plan.credit_grants.all()
    ]
    return (
        PlanForm(initial=PlanForm.initial_for(plan)),
        PriceStepFormSet(prefix="prices", initial=prices),
        CreditGrantFormSet(prefix="grants", initial=grants, form_kwargs=grant_kwargs),
        credit_types,
    )


def _steps_and_grants(prices, grants) -> tuple[list[Any], list[Any]] | None:
    if not (prices.is_valid() and grants.is_valid()):
        return None
    steps = [
        plan_services.PriceStepInput(
            f.cleaned_data["starts_on"], f.cleaned_data["net_amount"], f.cleaned_data.get("label", "")
        )
        for f in filled_forms(prices)
    ]
    given = [
        plan_services.CreditGrantInput(
            f.cleaned_data["credit_type"],
            f.cleaned_data["quantity"],
            f.cleaned_data["rollover"],
            f.cleaned_data.get("carry_months") or 0,
        )
        for f in filled_forms(grants)
    ]
    return steps, given


@login_required
def manage_plan(request: HttpRequest, venue_slug: str, pk: int | None = None) -> HttpResponse:
    """Create a plan (no pk) or change one: its fields, its price steps and the credits it grants."""
    venue = staffed_venue(request, venue_slug)
    plan = None
    if pk is not None:
        plan = get_object_or_404(selectors.venue_plans(venue), pk=pk)
    form, prices, grants, credit_types = _plan_forms(request, venue, plan)
    status = 200
    if request.method == "POST":
        lists = _steps_and_grants(prices, grants)
        if form.is_valid() and lists is not None:
            steps, given = lists
            try:
                if plan is None:
                    values = form.values()
                    saved = plan_services.create_plan(
                        venue=venue,
                        actor=viewer(request),
                        slug=form.cleaned_data["slug"],
                        prices=steps,
                        credit_grants=given,
                        **values,
                    )
                else:
                    saved = plan_services.update_plan(
                        plan=plan,
                        actor=viewer(request),
                        prices=steps,
                        credit_grants=given,
                        slug=form.cleaned_data["slug"],
                        **form.values(),
                    )
            except DomainError as error:
                add_service_error(form, error)
                status = error.status
            else:
                messages.success(request, _("The plan %(name)s is saved.") % {"name": saved.name})
                return redirect("web:manage_plans", venue_slug=venue.slug)
        else:
            status = FORM_INVALID
    context = {
        "venue": venue,
        "plan": plan,
        "form": form,
        "prices": prices,
        "grants": grants,
        "has_credit_types": credit_types.exists(),
        "list_errors": prices.is_bound and bool(prices.total_error_count() + grants.total_error_count()),
        "tab": "plans",
    }
    return render(request, "web/manage/plan_form.html", context, status=status)


# --- A venue's subscriptions -----------------------------------------------------------------------------


@login_required
def manage_subscriptions(request: HttpRequest, venue_slug: str) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    form = SubscriptionFilterForm(request.GET or None)
    chosen = form.cleaned_data.get("status") if form.is_valid() else None
    found = selectors.venue_subscriptions(venue, status=chosen or None)
    counts = dict(
        Subscription.objects.filter(venue=venue).values_list("status").annotate(n=Count("pk")).order_by()
    )
    context = {
        "venue": venue,
        "form": form,
        "page": page_of(request, found, SUBSCRIPTIONS_PAGE),
        "query": query_without_page(request),
        "counts": [(value, label, counts.get(value, 0)) for value, label in SubscriptionStatus.choices],
        "total": sum(counts.values()),
        "chosen": chosen,
        "tab": "subscriptions",
    }
    return render(request, "web/manage/subscriptions.html", context)


def _venue_subscription(venue: Venue, pk: int) -> selectors.SubscriptionDetail:
    try:
        return selectors.subscription_detail(pk, venue=venue)
    except NotFound as error:
        raise Http404() from error


def _manage_subscription_page(
    request: HttpRequest, venue: Venue, detail: selectors.SubscriptionDetail, form=None, status: int = 200
) -> HttpResponse:
    subscription = detail.subscription
    s_status = subscription.status
    actions = []
    if s_status in (states.ACTIVE, states.PAST_DUE) and subscription.plan.interval != periods.ONCE:
        actions.append(SubscriptionActionForm.PAUSE)
    if s_status == states.PAUSED:
        actions.append(SubscriptionActionForm.RESUME)
    if s_status not in (states.ENDED, states.CANCELLING) and subscription.plan.interval != periods.ONCE:
        actions.append(SubscriptionActionForm.CANCEL)
    if subscription.ends_on is not None and s_status != states.ENDED:
        actions.append(SubscriptionActionForm.UNDO_CANCEL)
    if s_status != states.ENDED:
        actions.append(SubscriptionActionForm.END_NOW)
    context = {
        "venue": venue,
        "detail": detail,
        "s": subscription,
        "actions": actions,
        "form": form or SubscriptionActionForm(),
        "earliest_end": _earliest_end(subscription),
        "tab": "subscriptions",
    }
    return render(request, "web/manage/subscription.html", context, status=status)


@login_required
def manage_subscription(request: HttpRequest, venue_slug: str, pk: int) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    return _manage_subscription_page(request, venue, _venue_subscription(venue, pk))


ACTION_DONE = {
    SubscriptionActionForm.PAUSE: gettext_lazy("The subscription is paused."),
    SubscriptionActionForm.RESUME: gettext_lazy("The subscription is running again."),
    SubscriptionActionForm.CANCEL: gettext_lazy("The subscription ends at the end of a period."),
    SubscriptionActionForm.UNDO_CANCEL: gettext_lazy("The subscription goes on."),
    SubscriptionActionForm.END_NOW: gettext_lazy("The subscription has ended."),
}


@login_required
@require_POST
def manage_subscription_action(request: HttpRequest, venue_slug: str, pk: int) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    detail = _venue_subscription(venue, pk)
    subscription = detail.subscription
    form = SubscriptionActionForm(request.POST)
    if not form.is_valid():
        return _manage_subscription_page(request, venue, detail, form, FORM_INVALID)
    action, reason = form.cleaned_data["action"], form.cleaned_data["reason"]
    actor = viewer(request)
    try:
        if action == SubscriptionActionForm.PAUSE:
            services.pause(subscription=subscription, actor=actor, reason=reason)
        elif action == SubscriptionActionForm.RESUME:
            services.resume(subscription=subscription, actor=actor)
        elif action == SubscriptionActionForm.CANCEL:
            services.cancel(subscription=subscription, actor=actor, at_period_end=True, reason=reason)
        elif action == SubscriptionActionForm.UNDO_CANCEL:
            services.undo_cancel(subscription=subscription, actor=actor)
        else:
            # Ended today, unused days credited by the plan's proration policy.
            services.cancel(subscription=subscription, actor=actor, at_period_end=False, reason=reason)
    except DomainError as error:
        add_service_error(form, error)
        return _manage_subscription_page(request, venue, detail, form, error.status)
    messages.success(request, str(ACTION_DONE[action]))
    return redirect("web:manage_subscription", venue_slug=venue.slug, pk=subscription.pk)


# --- A venue's credits -----------------------------------------------------------------------------------


@login_required
def manage_credits(request: HttpRequest, venue_slug: str) -> HttpResponse:
    """What each person may still spend at the venue, per credit type; a person's ledger here on demand."""
    venue = staffed_venue(request, venue_slug)
    rows = credit_selectors.venue_balances(venue)
    person = None
    ledger = None
    chosen = request.GET.get("person", "")
    if chosen.isdigit():
        person = next((row.person for row in rows if row.person.pk == int(chosen)), None)
        if person is None:
            raise Http404()
        ledger = page_of(request, credit_selectors.ledger(person, venue), LEDGER_PAGE)
    context = {
        "venue": venue,
        "rows": rows,
        "person": person,
        "ledger": ledger,
        "query": query_without_page(request),
        "tab": "credits",
    }
    return render(request, "web/manage/credits.html", context)
