"""The managers' set-up pages of contributions: creating a contributive budget and changing its rules, the
credit the network offers for payouts, an allocation round while it is prepared and the projects proposed
in it, and the activities contributions are filed under (the network's shared ones, a budget's own).

Who reaches what: a page about something the viewer cannot read is a 404 (nothing to enumerate); one about
something they read but may not change is a 403 that says why. The network-wide pages (a new budget or
round, the credit offered, the shared activities) are for those who run a venue of the network, as creating
a project is; anyone else gets a 404. Every form posts to its own page; bad input comes back with the error
next to its field and status 422, a refusal of the service with its own status, and nothing is written."""

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from lieux.contributions.models import (
    Activity,
    AllocationRound,
    AllocationRule,
    Budget,
    BudgetStatus,
    CreditConversion,
    RoundStatus,
)
from lieux.contributions.selectors import setup as setup_selectors
from lieux.contributions.selectors import web as web_selectors
from lieux.contributions.selectors.budgets import may_manage, may_manage_budget
from lieux.contributions.services import budgets as budget_services
from lieux.contributions.services import projects as project_services
from lieux.contributions.services import rounds as round_services
from lieux.contributions.services import setup as setup_services
from lieux.core.errors import DomainError
from lieux.venues.models import Network
from lieux.web.contribution_views import forbidden
from lieux.web.contribution_views_rounds import round_for
from lieux.web.forms_billing import add_service_error
from lieux.web.forms_contributions_setup import (
    ActivityForm,
    BudgetForm,
    CreditOfferForm,
    ProposalForm,
    RoundForm,
)
from lieux.web.pages import FORM_INVALID, viewer

T = TypeVar("T")

# Services that name no field for some refusals: where the person should read them.
FIELD_OF_CODE = {
    "round_slug_taken": "slug",
    "dates_out_of_order": "closes_at",
    "hours_period_required": "hours_from",
    "project_elsewhere": "project",
    "project_already_proposed": "project",
}


def _refused(form, error: DomainError) -> int:
    """Put a refused service call on the form and give the page's status."""
    if "field" not in error.extra and error.code in FIELD_OF_CODE:
        error.extra["field"] = FIELD_OF_CODE[error.code]
    add_service_error(form, error)
    return error.status


def _submit(form: forms.Form, act: Callable[[dict[str, Any]], T]) -> tuple[T | None, int]:
    """Every form of these pages: when it is valid, `act` runs its service on the data and gives what the
    service made (never None), with 200; otherwise None and the status of the page shown again, the form
    carrying the errors and nothing written."""
    if not form.is_valid():
        return None, FORM_INVALID
    try:
        return act(form.cleaned_data), 200
    except DomainError as error:
        return None, _refused(form, error)


def _setup_network(request: HttpRequest) -> Network:
    network = setup_selectors.setup_network(viewer(request))
    if network is None:
        raise Http404()
    return network


# --- Budgets --------------------------------------------------------------------------------------------


@login_required
def budget_create(request: HttpRequest) -> HttpResponse:
    user = viewer(request)
    network = _setup_network(request)
    projects = setup_selectors.projects_for_budget(user, network)
    initial: dict[str, Any] = {"starts_on": timezone.localdate()}
    # Opened from a project's page: that project (and its venue) chosen already.
    chosen = projects.filter(pk=_int(request.GET.get("projet"))).first()
    if chosen is not None:
        initial.update(project=chosen.pk, venue=chosen.venue_id)
    form = BudgetForm(
        request.POST or None,
        venues=setup_selectors.managed_venues(user).filter(network=network),
        projects=projects,
        initial=initial,
    )
    status = 200
    if request.method == "POST":
        budget, status = _submit(
            form,
            lambda data: budget_services.create_budget(
                network=network,
                slug=data["slug"],
                name=data["name"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                venue=data.get("venue"),
                project=data.get("project"),
                validators=data["validators"],
                validations_required=data["validations_required"],
                overrun=data["overrun"],
                hourly_value=data["hourly_value"],
                description=data.get("description", ""),
                is_public=data["is_public"],
                actor=user,
            ),
        )
        if budget is not None:
            messages.success(
                request,
                _("The budget %(name)s is created: add its funding sources.") % {"name": budget.name},
            )
            return redirect("web:contribution_budget", pk=budget.pk)
    context = {"form": form, "budget": None, "network": network, "tab": "budgets"}
    return render(request, "web/contributions/setup_budget_form.html", context, status=status)


def _budget_for(request: HttpRequest, pk: int) -> Budget:
    budget = Budget.objects.select_related("network", "venue", "project").filter(pk=pk).first()
    if budget is None or web_selectors.budget_access(viewer(request), budget) is None:
        raise Http404()
    return budget


@login_required
def budget_edit(request: HttpRequest, pk: int) -> HttpResponse:
    budget = _budget_for(request, pk)
    user = viewer(request)
    back = reverse("web:contribution_budget", args=[budget.pk])
    if not may_manage_budget(user, budget):
        return forbidden(request, _("Only the budget's managers may do this."), back=back)
    status = 200
    if request.method == "POST":
        form = BudgetForm(request.POST, editing=True)
        saved, status = _submit(
            form,
            lambda data: budget_services.update_budget(
                budget,
                actor=user,
                **{field: data[field] for field in budget_services.EDITABLE if field in data},
            ),
        )
        if saved is not None:
            messages.success(request, _("The budget's rules are saved."))
            return redirect("web:contribution_budget", pk=budget.pk)
    else:
        form = BudgetForm(initial=BudgetForm.initial_for(budget), editing=True)
    context = {
        "form": form,
        "budget": budget,
        "closed": budget.status == BudgetStatus.CLOSED,
        "network": budget.network,
        "tab": "budgets",
    }
    return render(request, "web/contributions/setup_budget_form.html", context, status=status)


# --- Activities -----------------------------------------------------------------------------------------


def _activities_page(
    request: HttpRequest, *, network: Network, budget: Budget | None, back: str
) -> HttpResponse:
    """The activities of one scope (the network's shared ones, or a budget's own): add, rename, remove."""
    user = viewer(request)
    scope = setup_selectors.activities_in_scope(network_id=network.pk, budget=budget)
    add_form = ActivityForm(prefix="new")
    bound: dict[int, ActivityForm] = {}
    row_errors: dict[int, str] = {}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "add":
            add_form = ActivityForm(request.POST, prefix="new")
            added, status = _submit(
                add_form,
                lambda data: project_services.create_activity(
                    network=network, name=data["name"], budget=budget, actor=user
                ),
            )
            if added is not None:
                messages.success(request, _("The activity %(name)s is added.") % {"name": added.name})
                return redirect(request.path)
        elif action in ("rename", "remove"):
            found = scope.filter(pk=_int(request.POST.get("activity"))).first()
            if found is None:
                raise Http404()
            activity = found
            if action == "rename":
                form = ActivityForm(request.POST, prefix=_prefix(activity))
                bound[activity.pk] = form
                renamed, status = _submit(
                    form,
                    lambda data: setup_services.rename_activity(
                        activity=activity, name=data["name"], actor=user
                    ),
                )
                if renamed is not None:
                    messages.success(request, _("The activity is renamed."))
                    return redirect(request.path)
            else:
                try:
                    setup_services.remove_activity(activity=activity, actor=user)
                except DomainError as error:
                    row_errors[activity.pk] = str(error.message)
                    status = error.status
                else:
                    messages.success(
                        request, _("The activity %(name)s is removed.") % {"name": activity.name}
                    )
                    return redirect(request.path)
        else:
            raise Http404()
    rows = []
    for activity in scope:
        form = bound.get(activity.pk) or ActivityForm(
            prefix=_prefix(activity), initial={"name": activity.name}
        )
        form.fields["name"].label = _("New name for %(name)s") % {"name": activity.name}
        form.fields["name"].help_text = ""
        rows.append((activity, form, row_errors.get(activity.pk, "")))
    context = {
        "network": network,
        "budget": budget,
        "rows": rows,
        "add_form": add_form,
        "back": back,
        "tab": "budgets" if budget is not None else "projects",
    }
    return render(request, "web/contributions/setup_activities.html", context, status=status)


def _int(value: Any) -> int:
    """An id from a form or a query string; 0 (no row) for anything else, a number too big included."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return number if 0 < number < 2**63 else 0


def _prefix(activity: Activity) -> str:
    return f"a{activity.pk}"


@login_required
def shared_activities(request: HttpRequest) -> HttpResponse:
    network = _setup_network(request)
    return _activities_page(request, network=network, budget=None, back=reverse("web:contribution_projects"))


@login_required
def budget_activities(request: HttpRequest, pk: int) -> HttpResponse:
    user = viewer(request)
    budget = Budget.objects.select_related("network", "venue", "project").filter(pk=pk).first()
    if budget is None:
        raise Http404()
    if not setup_selectors.may_manage_activities(user, network_id=budget.network_id, budget=budget):
        if web_selectors.budget_access(user, budget) is None:
            raise Http404()
        return forbidden(
            request,
            _("Only the budget's managers and its project's stewards may change its activities."),
            back=reverse("web:contribution_budget", args=[budget.pk]),
        )
    back = reverse("web:contribution_budget", args=[budget.pk])
    return _activities_page(request, network=budget.network, budget=budget, back=back)


# --- Credit offered for payouts -------------------------------------------------------------------------


@login_required
def credit_offers(request: HttpRequest) -> HttpResponse:
    user = viewer(request)
    network = _setup_network(request)
    form = CreditOfferForm(
        request.POST or None, credit_types=setup_selectors.offerable_credit_types(user, network)
    )
    status = 200
    if request.method == "POST":
        conversion, status = _submit(
            form,
            lambda data: setup_services.offer_credit(
                network=network,
                credit_type=data["credit_type"],
                euros_per_credit=data["euros_per_credit"],
                validity_months=data["validity_months"],
                actor=user,
            ),
        )
        if conversion is not None:
            messages.success(
                request,
                _("The network now offers %(credit)s of %(venue)s for payouts.")
                % {"credit": conversion.credit_type.name, "venue": conversion.credit_type.venue.name},
            )
            return redirect("web:contribution_credit_offers")
    offers = [
        (conversion, setup_selectors.may_offer_credit(user, conversion.credit_type))
        for conversion in setup_selectors.credit_offers(network)
    ]
    context = {"network": network, "offers": offers, "form": form, "tab": "budgets"}
    return render(request, "web/contributions/setup_credits.html", context, status=status)


@login_required
def credit_offer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = viewer(request)
    network = _setup_network(request)
    conversion = (
        CreditConversion.objects.filter(pk=pk, network=network).select_related("credit_type__venue").first()
    )
    if conversion is None:
        raise Http404()
    back = reverse("web:contribution_credit_offers")
    if not setup_selectors.may_offer_credit(user, conversion.credit_type):
        return forbidden(
            request,
            _("Only the managers of %(venue)s may offer its credit.")
            % {"venue": conversion.credit_type.venue.name},
            back=back,
        )
    status = 200
    if request.method == "POST":
        form = CreditOfferForm(request.POST, conversion=conversion)
        saved, status = _submit(
            form,
            lambda data: setup_services.update_credit_offer(
                conversion=conversion,
                euros_per_credit=data["euros_per_credit"],
                validity_months=data["validity_months"],
                is_active=data["is_active"],
                actor=user,
            ),
        )
        if saved is not None:
            messages.success(request, _("The credit offer is saved."))
            return redirect("web:contribution_credit_offers")
    else:
        form = CreditOfferForm(initial=CreditOfferForm.initial_for(conversion), conversion=conversion)
    context = {"conversion": conversion, "form": form, "back": back, "tab": "budgets"}
    return render(request, "web/contributions/setup_credit_form.html", context, status=status)


# --- Allocation rounds ----------------------------------------------------------------------------------


def _round_arguments(data: dict[str, Any]) -> dict[str, Any]:
    pro_rata = data["rule"] == AllocationRule.PRO_RATA_HOURS
    return {
        "name": data["name"],
        "description": data.get("description", ""),
        "pot": data["pot"],
        "funder": data["funder"],
        "rule": data["rule"],
        "opens_at": data["opens_at"],
        "closes_at": data["closes_at"],
        "hours_from": data.get("hours_from") if pro_rata else None,
        "hours_until": data.get("hours_until") if pro_rata else None,
    }


@login_required
def round_create(request: HttpRequest) -> HttpResponse:
    user = viewer(request)
    network = _setup_network(request)
    form = RoundForm(
        request.POST or None, venues=setup_selectors.managed_venues(user).filter(network=network)
    )
    status = 200
    if request.method == "POST":
        round_, status = _submit(
            form,
            lambda data: round_services.create_round(
                network=network,
                slug=data["slug"],
                venue=data.get("venue"),
                actor=user,
                **_round_arguments(data),
            ),
        )
        if round_ is not None:
            messages.success(
                request,
                _("The round %(name)s is prepared: propose its projects.") % {"name": round_.name},
            )
            return redirect("web:allocation_round_projects", pk=round_.pk)
    context = {"form": form, "round": None, "network": network, "tab": "rounds"}
    return render(request, "web/contributions/setup_round_form.html", context, status=status)


def _managed_round(request: HttpRequest, pk: int) -> AllocationRound | HttpResponse:
    """A round the viewer manages; a 404 if they cannot read it, a 403 if they only read it."""
    round_ = round_for(request, pk)
    if not may_manage(viewer(request), network_id=round_.network_id, venue_id=round_.venue_id):
        return forbidden(
            request,
            _("Only the round's managers may do this."),
            back=reverse("web:allocation_round", args=[round_.pk]),
        )
    return round_


@login_required
def round_edit(request: HttpRequest, pk: int) -> HttpResponse:
    found = _managed_round(request, pk)
    if isinstance(found, HttpResponse):
        return found
    round_ = found
    status = 200
    if request.method == "POST":
        form = RoundForm(request.POST, round=round_)
        saved, status = _submit(
            form,
            lambda data: setup_services.update_round(
                round=round_, actor=viewer(request), **_round_arguments(data)
            ),
        )
        if saved is not None:
            messages.success(request, _("The round is saved."))
            return redirect("web:allocation_round", pk=round_.pk)
    else:
        form = RoundForm(initial=RoundForm.initial_for(round_), round=round_)
    context = {
        "form": form,
        "round": round_,
        "fixed": round_.status != RoundStatus.DRAFT,
        "tz": _tz_name(round_),
        "tab": "rounds",
    }
    return render(request, "web/contributions/setup_round_form.html", context, status=status)


def _tz_name(round_: AllocationRound) -> str:
    return round_.venue.timezone if round_.venue is not None else timezone.get_default_timezone_name()


@login_required
def round_projects(request: HttpRequest, pk: int) -> HttpResponse:
    """The projects proposed in a round: proposing one (until it closes); changing a minimum or maximum, or
    withdrawing a project, while the round is in preparation."""
    found = _managed_round(request, pk)
    if isinstance(found, HttpResponse):
        return found
    round_ = found
    user = viewer(request)
    draft = round_.status == RoundStatus.DRAFT
    choices = setup_selectors.projects_for_round(round_)
    propose_form = ProposalForm(projects=choices)
    bound: dict[int, ProposalForm] = {}
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "propose":
            propose_form = ProposalForm(request.POST, projects=choices)
            proposed, status = _submit(
                propose_form,
                lambda data: round_services.propose_project(
                    round=round_,
                    project=data["project"],
                    minimum=data["minimum"],
                    maximum=data["maximum"],
                    actor=user,
                ),
            )
            if proposed is not None:
                messages.success(
                    request,
                    _("The project %(title)s is proposed in the round.") % {"title": proposed.project.title},
                )
                return redirect(request.path)
        elif action in ("change", "withdraw"):
            found_proposal = (
                setup_selectors.round_proposals(round_).filter(pk=_int(request.POST.get("proposal"))).first()
            )
            if found_proposal is None:
                raise Http404()
            proposal = found_proposal
            if action == "change":
                form = ProposalForm(request.POST, prefix=ProposalForm.prefix_for(proposal), changing=True)
                bound[proposal.pk] = form
                changed, status = _submit(
                    form,
                    lambda data: setup_services.change_proposal(
                        proposal=proposal, minimum=data["minimum"], maximum=data["maximum"], actor=user
                    ),
                )
                if changed is not None:
                    messages.success(request, _("The minimum and maximum are saved."))
                    return redirect(request.path)
            else:
                try:
                    setup_services.withdraw_proposal(proposal=proposal, actor=user)
                except DomainError as error:
                    messages.error(request, str(error.message))
                    status = error.status
                else:
                    messages.success(
                        request,
                        _("The project %(title)s is withdrawn from the round.")
                        % {"title": proposal.project.title},
                    )
                    return redirect(request.path)
        else:
            raise Http404()
    rows = []
    for proposal in setup_selectors.round_proposals(round_):
        form = bound.get(proposal.pk) or ProposalForm(
            prefix=ProposalForm.prefix_for(proposal),
            initial={"minimum": proposal.minimum, "maximum": proposal.maximum},
            changing=True,
        )
        for field in form.fields.values():
            field.help_text = ""  # said once, on the form that proposes
        rows.append((proposal, form))
    context = {
        "round": round_,
        "rows": rows,
        "draft": draft,
        "propose_form": propose_form if round_.status != RoundStatus.CLOSED else None,
        "has_choices": choices.exists(),
        "tab": "rounds",
    }
    return render(request, "web/contributions/setup_round_projects.html", context, status=status)
