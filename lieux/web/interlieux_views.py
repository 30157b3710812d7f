"""Pages of the Pass Interlieux: the reception desk of a venue (check a visitor in by name, badge or QR
code, who is here today), its badges and door devices, and a member's own pass (validity per venue, the
rotating QR code) and visit history with its export; and, with a venue's plans, the network access a plan
gives (the Pass Interlieux it sells).

What a venue's team sees of a visitor from another venue is a first name and whether they may come in;
the rest stays with the home venue. Every decision comes from `interlieux.rules` through the services."""

import csv
import json
from dataclasses import dataclass

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lieux.accounts.models import User
from lieux.core.errors import DomainError
from lieux.core.time import now
from lieux.interlieux import rules, selectors, tokens
from lieux.interlieux.anomalies import badge_anomalies
from lieux.interlieux.models import Badge, DoorDevice, NetworkAccess
from lieux.interlieux.services import check
from lieux.interlieux.services.credentials import issue_qr_token, register_badge, revoke_badge
from lieux.interlieux.services.devices import register_door_device, revoke_door_device
from lieux.interlieux.services.network_access import remove_network_access, set_network_access
from lieux.memberships.models import Plan, Subscription
from lieux.venues.models import Venue
from lieux.web.forms_billing import add_service_error
from lieux.web.forms_interlieux import NetworkAccessForm
from lieux.web.pages import FORM_INVALID, page_of, staffed_venue, viewer

SEARCH_LIMIT = 20
VISITS_PAGE = 50
# The member page reloads itself before the code shown expires.
QR_REFRESH_SECONDS = 60


# --- Reception desk --------------------------------------------------------------------------------------


def _visitors(venue: Venue):
    """People who might come in here: the venue's subscribers and holders of a pass that includes it.
    Only they are searched, so the desk is not a directory of the whole network."""
    day = selectors.local_day(venue, now())
    holders = Subscription.objects.filter(status__in=selectors.ENTRY_STATUSES, started_on__lte=day).filter(
        Q(venue=venue) | Q(plan__network_access__host_venues=venue)
    )
    return User.objects.filter(pk__in=holders.values("member_id"), is_active=True)


def _visitors_matching(venue: Venue, query: str):
    people = _visitors(venue)
    for word in query.split()[:3]:
        people = people.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    return people.order_by("first_name", "last_name")[:SEARCH_LIMIT]


def _shown_name(person: User, venue: Venue, home_venue_id: int | None) -> str:
    return selectors.display_name(person, host=venue, home_venue_id=home_venue_id)


@login_required
def reception(request: HttpRequest, venue_slug: str) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    result = None
    status = 200
    if request.method == "POST":
        code = request.POST.get("code", "").strip()
        person_pk = request.POST.get("person", "")
        if code:
            result = check.check_in_credential(venue=venue, credential=code[:400])
        elif person_pk.isdigit():
            person = _visitors(venue).filter(pk=int(person_pk)).first()
            if person is None:
                status = FORM_INVALID
                messages.error(request, _("This person holds no right at this venue."))
            else:
                result = check.check_in_person(venue=venue, person=person, actor=viewer(request))
        else:
            status = FORM_INVALID
            messages.error(request, _("Scan a badge or a QR code, or choose a person."))
        if result is not None and not result.allowed:
            status = FORM_INVALID
    query = request.GET.get("q", "").strip()[:100]
    found = []
    if query:
        found = [(p, _shown_name(p, venue, None)) for p in _visitors_matching(venue, query)]
    today = selectors.local_day(venue, now())
    present = [
        (visit, _shown_name(visit.person, venue, visit.home_venue_id))
        for visit in selectors.present_today(venue, today)
    ]
    return render(
        request,
        "web/manage/reception.html",
        {
            "venue": venue,
            "tab": "reception",
            "result": result,
            "query": query,
            "found": found,
            "present": present,
            "today": today,
        },
        status=status,
    )


# --- Badges and door devices of a venue ------------------------------------------------------------------


@login_required
def manage_badges(request: HttpRequest, venue_slug: str) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    status = 200
    if request.method == "POST":
        email = request.POST.get("email", "").strip()
        person = User.objects.filter(email__iexact=email).first() if email else None
        if person is None:
            status = FORM_INVALID
            messages.error(request, _("No account with this e-mail address."))
        else:
            try:
                register_badge(
                    venue=venue,
                    person=person,
                    uid=request.POST.get("uid", ""),
                    label=request.POST.get("label", ""),
                    actor=viewer(request),
                )
            except DomainError as error:
                status = error.status
                messages.error(request, str(error.message))
            else:
                messages.success(request, _("Badge registered."))
                return redirect("web:manage_badges", venue_slug=venue.slug)
    badges = page_of(request, selectors.badges_of_venue(venue), VISITS_PAGE)
    context = {"venue": venue, "tab": "badges", "badges": badges, "anomalies": badge_anomalies(venue)}
    return render(request, "web/manage/badges.html", context, status=status)


@login_required
@require_POST
def revoke_venue_badge(request: HttpRequest, venue_slug: str, pk: int) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    badge = get_object_or_404(Badge, pk=pk, issued_by=venue)
    revoke_badge(badge=badge, actor=viewer(request))
    messages.success(request, _("Badge revoked."))
    return redirect("web:manage_badges", venue_slug=venue.slug)


@login_required
def manage_doors(request: HttpRequest, venue_slug: str) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    new_token = None
    status = 200
    if request.method == "POST":
        try:
            _device, new_token = register_door_device(
                venue=venue, name=request.POST.get("name", ""), actor=viewer(request)
            )
        except DomainError as error:
            status = error.status
            messages.error(request, str(error.message))
    response = render(
        request,
        "web/manage/doors.html",
        {
            "venue": venue,
            "tab": "doors",
            "devices": selectors.devices_of_venue(venue),
            "new_token": new_token,
        },
        status=status,
    )
    # The token is on this page only: no cache may keep it.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def revoke_door(request: HttpRequest, venue_slug: str, pk: int) -> HttpResponse:
    venue = staffed_venue(request, venue_slug)
    device = get_object_or_404(DoorDevice, pk=pk, venue=venue)
    revoke_door_device(device=device, actor=viewer(request))
    messages.success(request, _("Door device revoked."))
    return redirect("web:manage_doors", venue_slug=venue.slug)


# --- The network access of a plan ------------------------------------------------------------------------


@login_required
def manage_plan_network(request: HttpRequest, venue_slug: str, pk: int) -> HttpResponse:
    """Give a plan of the venue its Pass Interlieux, change its terms, or take the plan out of the network."""
    venue = staffed_venue(request, venue_slug)
    plan = get_object_or_404(Plan.objects.filter(venue=venue), pk=pk)
    access = NetworkAccess.objects.filter(plan=plan).prefetch_related("host_venues").first()
    # The plan's own venue is always open to its subscribers: only the others are offered.
    hosts = Venue.objects.filter(network_id=venue.network_id).exclude(pk=venue.pk).order_by("name")
    status = 200
    if request.method == "POST" and request.POST.get("action") == "remove":
        if remove_network_access(plan=plan, actor=viewer(request)):
            messages.success(request, _("%(name)s no longer opens the other venues.") % {"name": plan.name})
        return redirect("web:manage_plan_network", venue_slug=venue.slug, pk=plan.pk)
    if request.method == "POST":
        form = NetworkAccessForm(request.POST, hosts=hosts)
        if form.is_valid():
            try:
                set_network_access(plan=plan, actor=viewer(request), **form.values())
            except DomainError as error:
                add_service_error(form, error)
                status = error.status
            else:
                messages.success(
                    request, _("The Pass Interlieux of %(name)s is saved.") % {"name": plan.name}
                )
                return redirect("web:manage_plans", venue_slug=venue.slug)
        else:
            status = FORM_INVALID
    else:
        form = NetworkAccessForm(initial=NetworkAccessForm.initial_from(access), hosts=hosts)
    subscribers = plan.subscriptions.filter(status__in=selectors.ENTRY_STATUSES).count()
    return render(
        request,
        "web/manage/plan_network.html",
        {
            "venue": venue,
            "plan": plan,
            "access": access,
            "form": form,
            "has_hosts": hosts.exists(),
            "subscribers": subscribers,
            "tab": "plans",
        },
        status=status,
    )


# --- A member's pass -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VenueRight:
    venue: Venue
    decision: rules.Decision


def _rights(person: User) -> list[VenueRight]:
    """The person's right at each venue of their networks, now, in words."""
    moment = now()
    network_ids = set(
        selectors.subscriptions_in_force(person, moment.date()).values_list("venue__network_id", flat=True)
    )
    rights = []
    for venue in Venue.objects.filter(network_id__in=network_ids).order_by("name"):
        decision = rules.decide(
            selectors.person_facts(person, venue, moment),
            selectors.venue_facts(venue, selectors.local_day(venue, moment)),
            moment,
        )
        rights.append(VenueRight(venue=venue, decision=decision))
    return rights


@login_required
def my_pass(request: HttpRequest) -> HttpResponse:
    person = viewer(request)
    rights = _rights(person)
    qr_svg = None
    token_error = None
    if rights:
        try:
            token, _claims = issue_qr_token(person=person, network=rights[0].venue.network)
        except DomainError as error:
            token_error = str(error.message)
        else:
            qr_svg = segno.make(token, error="m").svg_inline(
                scale=5, title=_("My Pass Interlieux QR code"), dark="#111", light="#fff"
            )
    response = render(
        request,
        "web/member/pass.html",
        {
            "tab": "pass",
            "rights": rights,
            "qr_svg": qr_svg,
            "token_error": token_error,
            "refresh_seconds": QR_REFRESH_SECONDS,
            "lifetime_minutes": int(tokens.TOKEN_LIFETIME.total_seconds() // 60),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def my_visits(request: HttpRequest) -> HttpResponse:
    person = viewer(request)
    visits = selectors.visits_of(person)
    export = request.GET.get("format")
    if export in ("csv", "json"):
        rows = [
            {
                "day": visit.day.isoformat(),
                "venue": visit.venue.name,
                "home_venue": visit.home_venue.name,
                "first_seen_at": visit.first_seen_at.astimezone(visit.venue.tz).isoformat(),
                "last_seen_at": visit.last_seen_at.astimezone(visit.venue.tz).isoformat(),
                "passages": visit.passages,
                "source": visit.source,
            }
            for visit in visits
        ]
        if export == "json":
            response = HttpResponse(
                json.dumps({"visits": rows}, ensure_ascii=False, indent=2), content_type="application/json"
            )
        else:
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            writer = csv.DictWriter(response, fieldnames=list(rows[0]) if rows else ["day"])
            writer.writeheader()
            writer.writerows(rows)
        response["Content-Disposition"] = f'attachment; filename="mes-passages.{export}"'
        return response
    return render(
        request,
        "web/member/visits.html",
        {"tab": "pass", "visits": page_of(request, visits, VISITS_PAGE)},
    )
