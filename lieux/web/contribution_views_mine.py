"""A person's own pages: « Mes contributions » (what awaits their confirmation, their whole history with its
statuses, its CSV and JSON exports and a certificate per year) and their consent to appear on the public
pages. Everything here is the viewer's own: nobody else's history is reachable from these URLs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from lieux.contributions.models import Visibility
from lieux.contributions.reports import certificate as certificates
from lieux.contributions.reports import history
from lieux.contributions.selectors import web as web_selectors
from lieux.contributions.services.profiles import update_contributor_profile
from lieux.core.errors import DomainError
from lieux.web.forms_billing import add_service_error
from lieux.web.forms_contributions import ConsentForm
from lieux.web.pages import FORM_INVALID, page_of, viewer

HISTORY_PAGE = 50


def _year(request: HttpRequest) -> int | None:
    text = request.GET.get("annee", "")
    if not text:
        return None
    if not text.isdigit() or not 1900 <= int(text) <= 2999:
        raise Http404()
    return int(text)


@login_required
def my_contributions(request: HttpRequest) -> HttpResponse:
    user = viewer(request)
    year = _year(request)
    rows = list(reversed(history.person_history(user, year)))
    profile = web_selectors.profile_of(user)
    context = {
        "awaiting": list(web_selectors.awaiting_my_confirmation(user)),
        "page": page_of(request, rows, HISTORY_PAGE),
        "year": year,
        "query": f"annee={year}" if year else "",
        "years": web_selectors.certificate_years(user),
        "profile": profile,
        "shown_as": _shown_as(profile),
        "tab": "contributions",
    }
    return render(request, "web/contributions/mine.html", context)


def _shown_as(profile) -> str:
    if profile is None or profile.visibility == Visibility.HIDDEN:
        return _("You are not named on the public pages: your contributions are only counted.")
    if profile.visibility == Visibility.PSEUDONYM:
        return _("You appear on the public pages as « %(pseudonym)s ».") % {"pseudonym": profile.pseudonym}
    return _("You appear on the public pages under your name.")


@login_required
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    user = viewer(request)
    year = _year(request)
    rows = history.person_history(user, year)
    if fmt == "csv":
        body, content_type = history.history_csv(rows), "text/csv; charset=utf-8"
    elif fmt == "json":
        body, content_type = history.history_json(user, rows, year=year), "application/json"
    else:
        raise Http404()
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{history.file_name(year, fmt)}"'
    return response


@login_required
def certificate(request: HttpRequest, year: int) -> HttpResponse:
    user = viewer(request)
    try:
        found = certificates.certificate_for(person=user, year=year)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("web:my_contributions")
    response = HttpResponse(certificates.certificate_pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{certificates.file_name(found)}"'
    return response


@login_required
def consent(request: HttpRequest) -> HttpResponse:
    user = viewer(request)
    profile = web_selectors.profile_of(user)
    status = 200
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                update_contributor_profile(
                    person=user,
                    visibility=data["visibility"],
                    pseudonym=data.get("pseudonym", ""),
                    structure_name=data.get("structure_name", ""),
                    actor=user,
                )
            except DomainError as error:
                add_service_error(form, error)
                status = error.status
            else:
                messages.success(request, _("Your choices are saved."))
                return redirect("web:my_contributions")
        else:
            status = FORM_INVALID
    else:
        initial: dict[str, str] = {"visibility": Visibility.HIDDEN}
        if profile is not None:
            initial = {
                "visibility": profile.visibility,
                "pseudonym": profile.pseudonym,
                "structure_name": profile.structure_name,
            }
        form = ConsentForm(initial=initial)
    return render(
        request, "web/contributions/consent.html", {"form": form, "tab": "contributions"}, status=status
    )
