"""Pages of the web UI. Each view reads through selectors, writes through a service, and shows a refused
service call as a form error. Everything works without JavaScript; htmx only swaps parts of a page."""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lieux.booking import partners, selectors
from lieux.booking import services as booking_services
from lieux.booking.models import BLOCKING_STATUSES, Booking, FeedScope, Status
from lieux.core.errors import DomainError, NotFound
from lieux.core.time import now
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import Resource, Venue, Weekday
from lieux.venues.services import update_resource_rules
from lieux.web import access, agenda, reads
from lieux.web.forms import (
    BookingForm,
    CancelForm,
    MoveForm,
    ResourceRulesForm,
    ReviewForm,
    add_domain_error,
)

FORM_INVALID = 422


def calendar_link(request: HttpRequest, **scope) -> str | None:
    """The absolute secret URL of the viewer's calendar feed for a scope, None when they may not follow
    it. The feed service lives in the booking app; a missing one only hides the links."""
    try:
        from lieux.booking.services.feeds import feed_for
    except ImportError:
        return None
    try:
        feed = feed_for(owner=request.user, **scope)
    except DomainError:
        return None
    return request.build_absolute_uri(reverse("web:calendar_feed", args=[feed.token]))


# --- Public pages -----------------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "web/home.html", {"venues": reads.venues_with_resource_counts()})


def venue_detail(request: HttpRequest, venue_slug: str) -> HttpResponse:
    venue = get_object_or_404(Venue, slug=venue_slug)
    resources = agenda.by_kind(venue_selectors.resources(venue=venue))
    today = agenda.today_at(venue)
    day = agenda.parse_day(request.GET.get("date"), today)
    staff = access.runs(request, venue.pk)
    view = agenda.day_view(venue=venue, day=day, user=request.user, resources=resources)
    context = {
        "venue": venue,
        "resources": resources,
        "view": view,
        "today": today,
        "opening": [(label, view.windows_by_weekday.get(value, [])) for value, label in Weekday.choices],
        "closures": reads.upcoming_closures(venue, today),
        "is_staff": staff,
        "may_follow": staff or venue_selectors.is_member_of(request.user, venue.pk),
    }
    return render(request, "web/venue.html", context)


def _resource(venue_slug: str, resource_slug: str) -> Resource:
    venue = get_object_or_404(Venue, slug=venue_slug)
    return get_object_or_404(venue_selectors.resources(venue=venue), slug=resource_slug)


def _booking_form(request: HttpRequest, resource: Resource, **kwargs) -> BookingForm:
    organisations = reads.organisations_of(request.user) if request.user.is_authenticated else None
    return BookingForm(
        tz=resource.venue.tz,
        step_minutes=resource.granularity_minutes,
        organisations=organisations,
        **kwargs,
    )


def _prefill(request: HttpRequest, resource: Resource) -> dict:
    """What a click on a free cell of the calendar puts in the form (?date=…&start=…)."""
    initial: dict = {}
    day = agenda.parse_day(request.GET.get("date"), agenda.today_at(resource.venue))
    if request.GET.get("date"):
        initial["date"] = day
    start = agenda.parse_time(request.GET.get("start"))
    if start is not None:
        initial["start"] = start
        length = max(resource.min_duration, timedelta(hours=1))
        end = datetime.combine(day, start) + length
        if end.date() == day or end.time() == time(0):  # ending at midnight is fine, later is not
            initial["end"] = end.time()
    return initial


def _book(user, resource: Resource, data: dict) -> tuple[Booking, list]:
    """Book once or as a series: the (first) booking, and the occurrences a series could not book."""
    common = {
        "actor": user,
        "resource": resource,
        "starts_at": data["starts_at"],
        "ends_at": data["ends_at"],
        "title": data["title"],
        "notes": data.get("notes", ""),
        "organisation": data.get("organisation"),
    }
    if data.get("recurrence") is None:
        return booking_services.create_booking(**common), []
    result = booking_services.create_series(**common, recurrence=data["recurrence"], policy=data["policy"])
    return result.booked[0], result.skipped


def _booked_message(request: HttpRequest, booking: Booking, skipped: list) -> None:
    if booking.status == Status.PENDING:
        messages.success(
            request,
            _("Your request is sent: the team of %(venue)s will approve it or not.")
            % {"venue": booking.venue.name},
        )
    else:
        messages.success(request, _("Your booking is confirmed."))
    for occurrence in skipped:
        messages.warning(
            request,
            _("Not booked on %(when)s: %(why)s")
            % {"when": date_format(occurrence.local_start, "l j F Y, H:i"), "why": occurrence.detail},
        )


def resource_detail(request: HttpRequest, venue_slug: str, resource_slug: str) -> HttpResponse:
    resource = _resource(venue_slug, resource_slug)
    venue = resource.venue
    week_day = agenda.parse_day(request.GET.get("week") or request.GET.get("date"), agenda.today_at(venue))
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        form = _booking_form(request, resource, data=request.POST)
        if form.is_valid():
            try:
                booking, skipped = _book(request.user, resource, form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                _booked_message(request, booking, skipped)
                return redirect("web:booking", pk=booking.pk)
        else:
            status = FORM_INVALID
        week_day = form.cleaned_data.get("date") or week_day
    else:
        form = _booking_form(request, resource, initial=_prefill(request, resource))
    context = {
        "venue": venue,
        "resource": resource,
        "view": agenda.week_view(resource=resource, day=week_day, user=request.user),
        "today": agenda.today_at(venue),
        "form": form,
        # A Pass Interlieux valid here: its discount and credits, said before the person books.
        "partner_terms": partners.terms_for(request.user, venue, agenda.today_at(venue)),
    }
    return render(request, "web/resource.html", context, status=status)


@login_required
def subscribe(request: HttpRequest, venue_slug: str, resource_slug: str | None = None) -> HttpResponse:
    """The secret calendar URL of a venue or of one of its resources."""
    if resource_slug is None:
        venue = get_object_or_404(Venue, slug=venue_slug)
        resource = None
        url = calendar_link(request, scope=FeedScope.VENUE, venue=venue)
    else:
        resource = _resource(venue_slug, resource_slug)
        venue = resource.venue
        url = calendar_link(request, scope=FeedScope.RESOURCE, resource=resource)
    if url is None:
        raise Http404()
    return render(request, "web/subscribe.html", {"venue": venue, "resource": resource, "feed_url": url})


# --- A person's bookings ----------------------------------------------------------------------------------


@login_required
def my_bookings(request: HttpRequest) -> HttpResponse:
    current = now()
    mine = selectors.bookings_for(request.user, mine=True)
    context = {
        "upcoming": list(mine.filter(ends_at__gt=current)[:200]),
        "past": list(mine.filter(ends_at__lte=current).order_by("-starts_at")[:50]),
        "feed_url": calendar_link(request, scope=FeedScope.PERSON),
    }
    return render(request, "web/my_bookings.html", context)


def _visible_booking(request: HttpRequest, pk: int) -> Booking:
    booking = selectors.get_visible_booking(request.user, pk)
    if booking is None:
        raise Http404()
    return booking


def _move_form(booking: Booking, **kwargs) -> MoveForm:
    return MoveForm(
        tz=booking.venue.tz,
        step_minutes=booking.resource.granularity_minutes,
        resources=venue_selectors.resources(venue=booking.venue),
        **kwargs,
    )


def _move_initial(booking: Booking) -> dict:
    tz = booking.venue.tz
    start, end = booking.starts_at.astimezone(tz), booking.ends_at.astimezone(tz)
    return {"resource": booking.resource, "date": start.date(), "start": start.time(), "end": end.time()}


def _booking_page(request: HttpRequest, booking: Booking, *, move_form=None, status: int = 200):
    staff = access.runs(request, booking.venue_id)
    mine = booking.booked_by_id == request.user.pk
    changeable = booking.status in BLOCKING_STATUSES
    if mine:
        feed_url = calendar_link(request, scope=FeedScope.PERSON)
    else:
        feed_url = calendar_link(request, scope=FeedScope.VENUE, venue=booking.venue)
    context = {
        "booking": booking,
        "venue": booking.venue,
        "is_staff": staff,
        "is_mine": mine,
        "changeable": changeable,
        "move_form": move_form
        or (_move_form(booking, initial=_move_initial(booking)) if changeable else None),
        "review_form": ReviewForm() if staff and booking.status == Status.PENDING else None,
        "feed_url": feed_url,
    }
    return render(request, "web/booking.html", context, status=status)


@login_required
def booking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _booking_page(request, _visible_booking(request, pk))


@login_required
@require_POST
def booking_move(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _visible_booking(request, pk)
    form = _move_form(booking, data=request.POST)
    if not form.is_valid():
        return _booking_page(request, booking, move_form=form, status=FORM_INVALID)
    data = form.cleaned_data
    try:
        booking_services.move_booking(
            actor=request.user,
            booking=booking,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            resource=data["resource"],
        )
    except DomainError as error:
        add_domain_error(form, error)
        return _booking_page(request, booking, move_form=form, status=error.status)
    messages.success(request, _("The booking is moved."))
    return redirect("web:booking", pk=booking.pk)


@login_required
def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """A confirmation page, then the cancellation itself on POST."""
    booking = _visible_booking(request, pk)
    if booking.status not in BLOCKING_STATUSES:
        messages.info(request, _("This booking is no longer active."))
        return redirect("web:booking", pk=booking.pk)
    form = CancelForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            booking_services.cancel_booking(
                actor=request.user, booking=booking, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            add_domain_error(form, error)
            status = error.status
        else:
            messages.success(request, _("The booking is cancelled."))
            return redirect("web:booking", pk=booking.pk)
    deadline = booking.starts_at - booking.resource.cancellation_deadline
    context = {"booking": booking, "form": form, "deadline": deadline, "late": now() > deadline}
    return render(request, "web/booking_cancel.html", context, status=status)


# --- Venue teams ------------------------------------------------------------------------------------------


def _staffed_venue(request: HttpRequest, venue_slug: str) -> Venue:
    """A venue the viewer runs. Another venue, existing or not, is a 404: nothing to enumerate."""
    venue = reads.staffed_venue(access.staffed_ids(request), venue_slug)
    if venue is None:
        raise Http404()
    return venue


@login_required
def manage_index(request: HttpRequest) -> HttpResponse:
    venues = list(reads.staffed_venues(access.staffed_ids(request)))
    if not venues:
        raise Http404()
    return render(request, "web/manage/index.html", {"venues": venues})


def _manage_page(request: HttpRequest, venue: Venue, *, bound_review=None, status: int = 200):
    current = now()
    pending = list(
        selectors.bookings_for(request.user, venue=venue, start=current, statuses=[Status.PENDING])
    )
    forms = {b.pk: ReviewForm() for b in pending}
    if bound_review is not None:
        forms[bound_review[0]] = bound_review[1]
    context = {
        "venue": venue,
        "pending": [(b, forms[b.pk]) for b in pending],
        "upcoming": list(
            selectors.bookings_for(
                request.user, venue=venue, start=current, statuses=[Status.CONFIRMED, Status.HELD]
            )[:100]
        ),
        "resources": agenda.by_kind(reads.every_resource(venue)),
    }
    return render(request, "web/manage/venue.html", context, status=status)


@login_required
def manage_venue(request: HttpRequest, venue_slug: str) -> HttpResponse:
    return _manage_page(request, _staffed_venue(request, venue_slug))


@login_required
@require_POST
def manage_review(request: HttpRequest, venue_slug: str, pk: int) -> HttpResponse:
    venue = _staffed_venue(request, venue_slug)
    booking = selectors.bookings_for(request.user, venue=venue).filter(pk=pk).first()
    if booking is None:
        raise Http404()
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _manage_page(request, venue, bound_review=(booking.pk, form), status=FORM_INVALID)
    approve = form.cleaned_data["action"] == ReviewForm.APPROVE
    service = booking_services.approve_booking if approve else booking_services.refuse_booking
    try:
        service(actor=request.user, booking=booking, reason=form.cleaned_data["reason"])
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            (_("“%(title)s” is approved.") if approve else _("“%(title)s” is refused."))
            % {"title": booking.title},
        )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("web:manage_venue", args=[venue.slug])
    return redirect(back)


@login_required
def manage_resource(request: HttpRequest, venue_slug: str, resource_slug: str) -> HttpResponse:
    venue = _staffed_venue(request, venue_slug)
    resource = get_object_or_404(reads.every_resource(venue), slug=resource_slug)
    status = 200
    if request.method == "POST":
        form = ResourceRulesForm(request.POST)
        if form.is_valid():
            try:
                update_resource_rules(actor=request.user, resource=resource, **form.changes())
            except NotFound as error:
                raise Http404() from error
            except DomainError as error:
                form.add_rule_errors(error)
                status = error.status
            else:
                messages.success(request, _("The rules of %(name)s are saved.") % {"name": resource.name})
                return redirect("web:manage_venue", venue_slug=venue.slug)
        else:
            status = FORM_INVALID
    else:
        form = ResourceRulesForm(initial=ResourceRulesForm.initial_for(resource))
    return render(
        request,
        "web/manage/resource.html",
        {"venue": venue, "resource": resource, "form": form},
        status=status,
    )
