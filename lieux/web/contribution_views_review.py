"""Peer review: the queue of what awaits the viewer's validation, budget by budget, and a contribution's page
with its review thread (comment, question, validate, refuse), its confirmation and withdrawal.

The page asks the review rules themselves (services.review and rules.review) which actions the viewer may
take now, and for each one they may not, says why — their own request, the budget's rules, its state —
instead of hiding it silently. The service decides again under its locks when the form is sent."""

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from lieux.accounts.models import User
from lieux.contributions.errors import ContributionNotFound
from lieux.contributions.models import (
    Budget,
    BudgetStatus,
    Contribution,
    ContributionStatus,
    Validators,
    Verdict,
)
from lieux.contributions.rules import review as review_rules
from lieux.contributions.selectors import contributions as contribution_selectors
from lieux.contributions.services import declare as declare_services
from lieux.contributions.services import review as review_services
from lieux.core.errors import DomainError, NotFound
from lieux.web.contribution_views import forbidden
from lieux.web.forms_billing import add_service_error
from lieux.web.forms_contributions import ReasonForm, ReviewForm
from lieux.web.pages import FORM_INVALID, viewer

QUEUE_LIMIT = 500
# The buttons say what they do; the verdicts' own labels name what was said, in the thread.
BUTTONS: dict[str, Any] = {
    Verdict.COMMENT: gettext_lazy("Add a comment"),
    Verdict.QUESTION: gettext_lazy("Ask a question"),
    Verdict.VALIDATE: gettext_lazy("Validate"),
    Verdict.REFUSE: gettext_lazy("Refuse"),
}


def readable(request: HttpRequest, pk: int) -> Contribution:
    try:
        return contribution_selectors.contribution_for(viewer(request), pk)
    except ContributionNotFound as error:
        raise Http404() from error


# --- What the viewer may do, and why not --------------------------------------------------------------


def _why_not(code: str, contribution: Contribution) -> str:
    if code == "contribution_state":
        return _("This contribution is %(status)s.") % {
            "status": ContributionStatus(contribution.status).label.lower()
        }
    if code == "budget_closed":
        return _("This budget is closed.")
    if code == "invalid_verdict":
        return _("Not a valid choice.")
    return str(review_services.PROBLEMS[code]().message)


@dataclass(frozen=True)
class Action:
    verdict: str
    label: str
    allowed: bool
    reason: str  # why not, when not allowed


def review_actions(user: User, contribution: Contribution) -> list[Action]:
    """Each verdict with whether the viewer may give it now and, if not, why (from the review rules)."""
    budget = contribution.budget
    facts = review_services.reviewer_facts(user, contribution, budget)
    request_facts = review_rules.Request(
        contributor_id=contribution.contributor_id,
        declared_by_id=contribution.declared_by_id,
        status=contribution.status,
        validated_by=frozenset(contribution_selectors.validations_of(contribution)),
    )
    rules = review_services.review_rules(contribution, budget)
    actions = []
    for verdict in Verdict.values:
        label = BUTTONS[verdict]
        # A message is typed in the form: the rules are asked whether the action itself is open.
        code = review_rules.review_problem(
            verdict, reviewer=facts, request=request_facts, rules=rules, message="-"
        )
        deciding = verdict in (Verdict.VALIDATE, Verdict.REFUSE)
        if code is None and deciding and budget is not None and budget.status == BudgetStatus.CLOSED:
            code = "budget_closed"
        actions.append(
            Action(verdict, str(label), code is None, "" if code is None else _why_not(code, contribution))
        )
    return actions


def _page(
    request: HttpRequest,
    contribution: Contribution,
    *,
    review_form: ReviewForm | None = None,
    withdraw_form: ReasonForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = viewer(request)
    budget = contribution.budget
    rules = review_services.review_rules(contribution, budget)
    actions = review_actions(user, contribution)
    validations = contribution_selectors.validations_of(contribution)
    may_withdraw = contribution.status in (
        ContributionStatus.AWAITING_CONFIRMATION,
        ContributionStatus.SUBMITTED,
    ) and (
        contribution.contributor_id == user.pk
        or (
            contribution.declared_by_id == user.pk
            and contribution.status == ContributionStatus.AWAITING_CONFIRMATION
        )
    )
    context = {
        "contribution": contribution,
        "reviews": list(contribution_selectors.reviews_of(contribution)),
        "actions": actions,
        "any_action": any(a.allowed for a in actions),
        "not_allowed": [a for a in actions if not a.allowed],
        "review_form": review_form or ReviewForm(),
        "withdraw_form": withdraw_form or ReasonForm(),
        "may_withdraw": may_withdraw,
        "must_confirm": contribution.contributor_id == user.pk
        and contribution.status == ContributionStatus.AWAITING_CONFIRMATION,
        "validations": len(validations),
        "rules": rules,
        "validators_label": _validators_label(rules.validators),
        "is_mine": contribution.contributor_id == user.pk,
        "tab": "review",
    }
    return render(request, "web/contributions/contribution.html", context, status=status)


def _validators_label(validators: str) -> str:
    try:
        return str(Validators(validators).label)
    except ValueError:
        return validators


@login_required
def contribution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, readable(request, pk))


@login_required
@require_POST
def review(request: HttpRequest, pk: int) -> HttpResponse:
    contribution = readable(request, pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _page(request, contribution, review_form=form, status=FORM_INVALID)
    verdict = form.cleaned_data["verdict"]
    try:
        review_services.review_contribution(
            contribution=contribution,
            reviewer=viewer(request),
            verdict=verdict,
            message=form.cleaned_data["message"],
        )
    except NotFound as error:
        raise Http404() from error
    except DomainError as error:
        add_service_error(form, error)
        if error.extra.get("field") == "message" or error.code == "message_required":
            form.errors.pop("__all__", None)
            form.add_error("message", str(error.message))
        return _page(request, readable(request, pk), review_form=form, status=error.status)
    done = {
        Verdict.COMMENT: _("Your comment is added."),
        Verdict.QUESTION: _("Your question is asked: the contributor is told by e-mail."),
        Verdict.VALIDATE: _("Your validation is recorded."),
        Verdict.REFUSE: _("The contribution is refused."),
    }
    messages.success(request, done[verdict])
    return redirect("web:contribution", pk=contribution.pk)


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    contribution = readable(request, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _page(request, contribution, withdraw_form=form, status=FORM_INVALID)
    try:
        declare_services.withdraw_contribution(
            contribution=contribution, actor=viewer(request), reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        if error.status == 403:
            return forbidden(request, str(error.message), back=reverse("web:contribution", args=[pk]))
        add_service_error(form, error)
        return _page(request, contribution, withdraw_form=form, status=error.status)
    messages.success(request, _("The contribution is withdrawn."))
    return redirect("web:contribution", pk=contribution.pk)


@login_required
def evidence(request: HttpRequest, pk: int) -> FileResponse:
    """The file given as evidence, to those who may read the contribution only (never a public URL)."""
    contribution = readable(request, pk)
    if not contribution.evidence_file:
        raise Http404()
    try:
        handle = contribution.evidence_file.open("rb")
    except FileNotFoundError as error:
        raise Http404() from error
    name = contribution.evidence_file.name.rsplit("/", 1)[-1]
    return FileResponse(handle, as_attachment=True, filename=name)


# --- The queue ------------------------------------------------------------------------------------------


@dataclass
class QueueGroup:
    budget: Budget | None
    items: list[Contribution]


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """Requests submitted for review that the viewer may validate or refuse and has not validated yet, by
    budget. Entitlement is asked once per (project, budget), not per request."""
    user = viewer(request)
    waiting = list(contribution_selectors.contributions(user, to_review=True)[:QUEUE_LIMIT])
    entitled: dict[tuple[int, int | None], bool] = {}
    groups: dict[int | None, QueueGroup] = {}
    for contribution in waiting:
        scope = (contribution.project_id, contribution.budget_id)
        if scope not in entitled:
            facts = review_services.reviewer_facts(user, contribution, contribution.budget)
            entitled[scope] = review_rules.entitled(
                facts, review_services.review_rules(contribution, contribution.budget)
            )
        if not entitled[scope]:
            continue
        group = groups.setdefault(contribution.budget_id, QueueGroup(contribution.budget, []))
        group.items.append(contribution)
    ordered = sorted(groups.values(), key=lambda g: (g.budget is None, g.budget.name if g.budget else ""))
    context = {
        "groups": ordered,
        "count": sum(len(g.items) for g in ordered),
        "truncated": len(waiting) >= QUEUE_LIMIT,
        "tab": "review",
    }
    return render(request, "web/contributions/queue.html", context)
