"""Declaring contributions: one at a time (for oneself, or by a steward for someone else, who then confirms
or declines it), and in bulk from pasted lines or a CSV file.

The bulk page works in two steps. « Preview » reads and checks every line through the import service and
saves nothing: each bad line is flagged with its number and reason, and the text stays in the box to be
corrected. « Save » saves every line or none (the service's all-or-nothing refusal lists the bad lines), and
only the text that was previewed: if the lines changed since, they are previewed again instead."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lieux.contributions.errors import ContributionNotFound, ImportRejected
from lieux.contributions.models import Activity, Budget, Contribution, ContributionStatus, Project
from lieux.contributions.selectors import contributions as contribution_selectors
from lieux.contributions.selectors import projects as project_selectors
from lieux.contributions.selectors import web as web_selectors
from lieux.contributions.services import declare as declare_services
from lieux.contributions.services import imports as import_services
from lieux.core.errors import DomainError, Forbidden, NotFound
from lieux.web.contribution_views import forbidden, project_for, project_url
from lieux.web.forms_billing import add_service_error
from lieux.web.forms_contributions import BulkForm, DeclareForm, ReasonForm
from lieux.web.pages import FORM_INVALID, viewer


def _activities(project: Project, budgets: QuerySet[Budget]) -> QuerySet[Activity]:
    """The network's shared activities and the own activities of the budgets the project may ask from."""
    return Activity.objects.filter(
        Q(budget__isnull=True) | Q(budget__in=list(budgets)), network_id=project.network_id
    ).order_by("budget__name", "name", "pk")


def _declare(request: HttpRequest, pk: int, *, for_someone: bool) -> HttpResponse:
    project = project_for(request, pk)
    user = viewer(request)
    if for_someone and not project_selectors.is_steward(user, project):
        return forbidden(
            request,
            _("Only the project's stewards may declare a contribution for someone else."),
            back=project_url(project),
        )
    budgets = web_selectors.budgets_for_declaring(project, user)
    kwargs: dict[str, Any] = {
        "activities": _activities(project, budgets),
        "budgets": budgets,
        "for_someone": for_someone,
    }
    status = 200
    if request.method == "POST":
        form = DeclareForm(request.POST, request.FILES, **kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                contribution = declare_services.declare_contribution(
                    actor=user,
                    project=project,
                    contributor=data.get("contributor") or user,
                    performed_on=data["performed_on"],
                    description=data["description"],
                    hours=data.get("hours"),
                    kind=data["kind"],
                    activities=data.get("activities") or [],
                    budget=data.get("budget"),
                    amount_asked=data.get("amount_asked"),
                    evidence_url=data.get("evidence_url") or "",
                    evidence_file=data.get("evidence_file"),
                )
            except NotFound as error:
                raise Http404() from error
            except DomainError as error:
                add_service_error(form, error)
                status = error.status
            else:
                if contribution.status == ContributionStatus.AWAITING_CONFIRMATION:
                    messages.success(
                        request,
                        _("The contribution is recorded: %(name)s confirms it before it goes to review.")
                        % {"name": contribution.contributor.get_short_name()},
                    )
                else:
                    messages.success(request, _("Your contribution is submitted for review."))
                return redirect("web:contribution", pk=contribution.pk)
        else:
            status = FORM_INVALID
    else:
        form = DeclareForm(initial={"performed_on": declare_services.project_today(project)}, **kwargs)
    context = {"project": project, "form": form, "for_someone": for_someone, "tab": "projects"}
    return render(request, "web/contributions/declare.html", context, status=status)


@login_required
def declare(request: HttpRequest, pk: int) -> HttpResponse:
    return _declare(request, pk, for_someone=False)


@login_required
def declare_for(request: HttpRequest, pk: int) -> HttpResponse:
    return _declare(request, pk, for_someone=True)


# --- The contributor confirms or declines what a steward declared -----------------------------------


def _readable(request: HttpRequest, pk: int) -> Contribution:
    try:
        return contribution_selectors.contribution_for(viewer(request), pk)
    except ContributionNotFound as error:
        raise Http404() from error


@login_required
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """What a steward declared for the viewer, and their answer: confirm (to review) or decline."""
    contribution = _readable(request, pk)
    user = viewer(request)
    if contribution.contributor_id != user.pk:
        return forbidden(
            request,
            _("Only the person who contributed may confirm or decline it."),
            back=_contribution_url(contribution),
        )
    form = ReasonForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("answer") == "confirm":
                declare_services.confirm_contribution(contribution=contribution, actor=user)
                messages.success(request, _("Thank you: the contribution goes to review."))
            else:
                declare_services.decline_contribution(
                    contribution=contribution, actor=user, reason=form.cleaned_data["reason"]
                )
                messages.success(request, _("The contribution is declined: it is withdrawn."))
        except DomainError as error:
            add_service_error(form, error)
            status = error.status
        else:
            return redirect("web:contribution", pk=contribution.pk)
    context = {
        "contribution": contribution,
        "form": form,
        "awaiting": contribution.status == ContributionStatus.AWAITING_CONFIRMATION,
        "tab": "mine",
    }
    return render(request, "web/contributions/confirm.html", context, status=status)


def _contribution_url(contribution: Contribution) -> str:
    return reverse("web:contribution", args=[contribution.pk])


# --- In bulk ------------------------------------------------------------------------------------------


def _rebound(form: BulkForm, request: HttpRequest, data: dict[str, Any], key: str) -> BulkForm:
    """The form shown with the preview: the text read (from the box or the file) back in the box, and the
    key of what was previewed, which « Save » must match."""
    values = {
        "format": data["format"],
        "content": data["content"],
        "budget": data["budget"].pk if data.get("budget") else "",
        "kind": data["kind"],
        "previewed": key,
    }
    rebound = BulkForm(values, budgets=form.fields["budget"].queryset)  # type: ignore[attr-defined]
    rebound.is_valid()
    return rebound


@login_required
def bulk(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_for(request, pk)
    user = viewer(request)
    budgets = web_selectors.budgets_for_declaring(project, user)
    preview = None
    rejected: list[dict[str, Any]] = []
    status = 200
    if request.method != "POST":
        form = BulkForm(budgets=budgets)
        context = {"project": project, "form": form, "preview": None, "tab": "projects"}
        return render(request, "web/contributions/bulk.html", context)
    form = BulkForm(request.POST, request.FILES, budgets=budgets)
    if not form.is_valid():
        context = {"project": project, "form": form, "preview": None, "tab": "projects"}
        return render(request, "web/contributions/bulk.html", context, status=FORM_INVALID)
    data = form.cleaned_data
    args = {
        "actor": user,
        "project": project,
        "content": data["content"],
        "fmt": data["format"],
        "budget": data.get("budget"),
        "kind": data["kind"],
    }
    key = import_services.import_key(
        project=project, budget=data.get("budget"), fmt=data["format"], content=data["content"]
    )
    saving = request.POST.get("action") == "save"
    if saving and data.get("previewed") != key:
        messages.warning(request, _("The lines changed since the preview: check them again before saving."))
        saving = False
    try:
        if saving:
            result = import_services.import_contributions(**args)
        else:
            preview = import_services.preview_import(**args)
    except ImportRejected as error:
        rejected = error.extra.get("lines", [])
        form.add_error(None, str(error.message))
        status = error.status
        preview = _quiet_preview(args)
    except NotFound as error:
        raise Http404() from error
    except Forbidden as error:
        return forbidden(request, str(error.message), back=project_url(project))
    except DomainError as error:
        add_service_error(form, error)
        context = {"project": project, "form": form, "preview": None, "tab": "projects"}
        return render(request, "web/contributions/bulk.html", context, status=error.status)
    else:
        if saving:
            created, skipped = len(result.created), result.skipped
            messages.success(
                request,
                ngettext("%(n)s contribution saved.", "%(n)s contributions saved.", created) % {"n": created},
            )
            if skipped:
                messages.info(
                    request,
                    ngettext(
                        "%(n)s line was already saved by an earlier import: skipped.",
                        "%(n)s lines were already saved by an earlier import: skipped.",
                        skipped,
                    )
                    % {"n": skipped},
                )
            return redirect("web:contribution_project", pk=project.pk)
        if preview is not None and not preview.ok:
            status = FORM_INVALID
    shown = _rebound(form, request, data, key if preview is not None and preview.ok else "")
    for error_text in form.non_field_errors():
        shown.add_error(None, error_text)
    context = {
        "project": project,
        "form": shown,
        "preview": preview,
        "rejected": rejected,
        "tab": "projects",
    }
    return render(request, "web/contributions/bulk.html", context, status=status)


def _quiet_preview(args: dict[str, Any]) -> import_services.ImportPreview | None:
    """The lines again, to flag the bad ones next to the refusal; None if even that is refused now."""
    try:
        return import_services.preview_import(**args)
    except DomainError:
        return None
