"""Pages of projects (chantiers): the list, a project's page, and creating or changing one. What the other
contributions pages share is here too: finding a project the viewer may read, and the page that says an
action is not theirs to take.

Who sees what follows the selectors: a public project is readable by anyone logged in, a private one by the
people of its network and its stewards; anything else is a 404, so nothing can be enumerated. Creating a
project is for the managers of a venue (network-wide: of any venue of the network, and its admins);
changing it also for its stewards. Other readers get a 403 that says so."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from lieux.contributions.models import Project, ProjectStatus
from lieux.contributions.selectors import contributions as contribution_selectors
from lieux.contributions.selectors import projects as project_selectors
from lieux.contributions.selectors import web as web_selectors
from lieux.contributions.selectors.budgets import managed_venue_ids
from lieux.contributions.services import projects as project_services
from lieux.core.errors import DomainError
from lieux.venues.models import Network, Venue
from lieux.web.forms_billing import add_service_error
from lieux.web.forms_contributions import ProjectForm
from lieux.web.pages import FORM_INVALID, viewer

RECENT = 20


def project_for(request: HttpRequest, pk: int) -> Project:
    """A project the viewer may read, else 404."""
    project = (
        project_selectors.visible_projects(viewer(request))
        .filter(pk=pk)
        .select_related("network", "venue")
        .first()
    )
    if project is None:
        raise Http404()
    return project


def forbidden(request: HttpRequest, message: str, *, back: str = "") -> HttpResponse:
    """A 403 that says why, with a way back: the reader may see the thing, not do this to it."""
    return render(request, "web/contributions/forbidden.html", {"message": message, "back": back}, status=403)


def _managed_venues(request: HttpRequest) -> QuerySet[Venue]:
    return Venue.objects.filter(pk__in=managed_venue_ids(viewer(request))).select_related("network")


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    user = viewer(request)
    found = project_selectors.projects(user)
    venue_slug = request.GET.get("lieu", "")
    if venue_slug == "reseau":
        found = found.filter(venue__isnull=True)
    elif venue_slug:
        found = found.filter(venue__slug=venue_slug)
    projects = list(found[:500])
    venues = (
        Venue.objects.filter(projects__in=project_selectors.visible_projects(user))
        .distinct()
        .order_by("name")
    )
    context = {
        "projects": projects,
        "venues": venues,
        "chosen": venue_slug,
        "may_create": _managed_venues(request).exists(),
        "tab": "projects",
    }
    return render(request, "web/contributions/project_list.html", context)


@login_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = viewer(request)
    project = project_for(request, pk)
    budgets = list(web_selectors.budgets_for_declaring(project, user))
    shared = list(project_selectors.activities_for(network_id=project.network_id).filter(budget__isnull=True))
    own = {b: list(b.own_activities.order_by("name")) for b in budgets}
    context = {
        "project": project,
        "stewards": list(project.stewards.order_by("first_name", "last_name", "email")),
        "shared_activities": shared,
        "budget_activities": [(b, acts) for b, acts in own.items() if acts],
        "budgets": budgets,
        "recent": list(contribution_selectors.contributions(user, project_id=project.pk)[:RECENT]),
        "is_steward": project_selectors.is_steward(user, project),
        "may_manage": project_selectors.may_manage_project(user, project),
        "may_declare": project.status != ProjectStatus.ARCHIVED,
        "tab": "projects",
    }
    return render(request, "web/contributions/project.html", context)


@login_required
def project_create(request: HttpRequest) -> HttpResponse:
    venues = _managed_venues(request)
    first = venues.first()
    if first is None:
        raise Http404()
    # One installation serves one network; someone running venues of several creates in the first one's.
    network: Network = first.network
    venues = venues.filter(network=network).order_by("name")
    form = ProjectForm(request.POST or None, venues=venues)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                project = project_services.create_project(
                    network=network,
                    slug=data["slug"],
                    title=data["title"],
                    venue=data.get("venue"),
                    description=data.get("description", ""),
                    status=data["status"],
                    stewards=data["stewards"],
                    is_public=data["is_public"],
                    actor=viewer(request),
                )
            except DomainError as error:
                add_service_error(form, error)
                status = error.status
            else:
                messages.success(request, _("The project %(title)s is created.") % {"title": project.title})
                return redirect("web:contribution_project", pk=project.pk)
        else:
            status = FORM_INVALID
    context = {"form": form, "project": None, "network": network, "tab": "projects"}
    return render(request, "web/contributions/project_form.html", context, status=status)


@login_required
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_for(request, pk)
    if not project_selectors.may_manage_project(viewer(request), project):
        return forbidden(
            request,
            _("Only the venue's team or the project's stewards may change this project."),
            back=project_url(project),
        )
    status = 200
    if request.method == "POST":
        form = ProjectForm(request.POST, editing=True)
        if form.is_valid():
            data = form.cleaned_data
            try:
                project_services.update_project(
                    project,
                    actor=viewer(request),
                    title=data["title"],
                    description=data.get("description", ""),
                    status=data["status"],
                    is_public=data["is_public"],
                    stewards=data["stewards"],
                )
            except DomainError as error:
                add_service_error(form, error)
                status = error.status
            else:
                messages.success(request, _("The project is saved."))
                return redirect("web:contribution_project", pk=project.pk)
        else:
            status = FORM_INVALID
    else:
        form = ProjectForm(initial=ProjectForm.initial_for(project), editing=True)
    context = {"form": form, "project": project, "network": project.network, "tab": "projects"}
    return render(request, "web/contributions/project_form.html", context, status=status)


def project_url(project: Project) -> str:
    return reverse("web:contribution_project", args=[project.pk])
