"""Who may book what, and whether a slot obeys a resource's rules. Shared by every booking write."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from lieux.accounts.models import Organisation
from lieux.billing import overdue
from lieux.billing.models.invoices import PastDueAccess
from lieux.booking import partner_rules, partners
from lieux.booking.errors import BookingInvalid, BookingNotFound
from lieux.booking.models import Booking
from lieux.booking.rules import ResourceRules, rule_violations
from lieux.booking.selectors_facts import BookingFacts
from lieux.core.errors import Conflict, Forbidden, NotFound
from lieux.core.time import now
from lieux.venues import rules as venue_rules
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import Audience, BookableBy, Resource


def ensure_may_book(actor, resource: Resource, *, staff: bool, member: bool | None = None) -> None:
    """`staff`: whether the actor staffs the resource's venue, `member` whether they hold a role there
    (callers may already know them; read when not given)."""
    if not resource.is_active:
        raise NotFound(_("No such resource."), code="unknown_resource")
    if resource.bookable_by == BookableBy.ANYONE:
        return
    if staff:
        return
    if resource.bookable_by == BookableBy.MEMBERS:
        if member is None:
            member = venue_selectors.is_member_of(actor, resource.venue_id)
        if member:
            return
    raise Forbidden(
        _("Only members of %(venue)s may book this resource.") % {"venue": resource.venue.name}
        if resource.bookable_by == BookableBy.MEMBERS
        else _("Only the staff of %(venue)s may book this resource.") % {"venue": resource.venue.name},
        code="not_allowed_to_book",
    )


def ensure_may_manage(actor, booking: Booking) -> bool:
    """Owner or staff of the booking's venue; anyone else is told the booking does not exist.
    Returns True when the actor acts as staff."""
    staff = venue_selectors.is_staff_of(actor, booking.venue_id)
    if not staff and booking.booked_by_id != getattr(actor, "pk", None):
        raise BookingNotFound()
    return staff


def ensure_may_pay_for(
    actor, organisation: Organisation | None, *, staff: bool, belongs: bool | None = None
) -> None:
    """`belongs`: whether the actor is one of the organisation's members, when already known."""
    if organisation is None or staff:
        return
    if belongs is None:
        belongs = organisation.members.filter(pk=actor.pk).exists()
    if not belongs:
        # Same answer as an unknown organisation: trying ids must not reveal organisations' names.
        raise NotFound(_("No such organisation."), code="unknown_organisation")


def slot_problems(
    resource: Resource, start: datetime, end: datetime, *, staff: bool, facts: BookingFacts | None = None
) -> list[tuple[str, str]]:
    """Every rule the slot breaks, as (code, message); staff may book outside opening hours. `facts`: the
    venue's calendar of the slot's day, when already read."""
    venue = resource.venue
    rules = ResourceRules(
        min_duration=resource.min_duration,
        max_duration=resource.max_duration,
        granularity_minutes=resource.granularity_minutes,
        max_advance_days=resource.max_advance_days,
    )
    problems = rule_violations(start, end, rules=rules, tz=venue.tz, now=now(), staff=staff)
    if problems or staff:
        return problems
    local_day = start.astimezone(venue.tz).date()
    if facts is not None and facts.day == local_day:
        windows, closures = facts.windows, facts.closures
    else:
        windows = venue_selectors.opening_windows(venue)
        closures = venue_selectors.closures_between(venue, local_day, local_day)
    if venue_rules.is_closed_on(local_day, closures):
        return [("venue_closed", _("%(venue)s is closed that day.") % {"venue": venue.name})]
    if not venue_rules.within_opening_hours(start, end, venue.tz, windows, closures):
        return [
            (
                "outside_opening_hours",
                _("The slot is outside the opening hours of %(venue)s.") % {"venue": venue.name},
            )
        ]
    return []


def ensure_valid_slot(
    resource: Resource, start: datetime, end: datetime, *, staff: bool, facts: BookingFacts | None = None
) -> None:
    problems = slot_problems(resource, start, end, staff=staff, facts=facts)
    if problems:
        raise BookingInvalid(" ".join(message for _code, message in problems), code=problems[0][0])


@dataclass(frozen=True)
class Quote:
    """A booking's estimated price excluding VAT (None: the resource has no price), and the partner terms
    behind it when the booker holds a Pass Interlieux valid at the resource's venue. `discount_percent` is
    set only when the pass discount lowered the price (partner_rules.partner_price)."""

    net_amount: Decimal | None
    terms: partners.PartnerTerms | None = None
    discount_percent: Decimal | None = None


def quote(
    actor, resource: Resource, start: datetime, end: datetime, *, facts: BookingFacts | None = None
) -> Quote:
    """The price a person pays: the member or public rate, or at a partner venue the public rate less the
    pass discount when that is lower. The same figure is shown before booking, stored on the booking and
    billed (less what credits cover). `facts`: the person's role and the resource's prices when already
    read, and whether partners need asking when read for the slot's day."""
    venue = resource.venue
    day = start.astimezone(venue.tz).date()
    if facts is not None:
        member, all_prices = facts.member, facts.prices
        elsewhere = facts.subscribed_elsewhere if facts.day == day else None
    else:
        member = venue_selectors.is_member_of(actor, resource.venue_id)
        all_prices = tuple((p.unit, p.audience, p.net_amount) for p in resource.prices.all())
        elsewhere = None

    def rate(audience: str) -> Decimal | None:
        prices = {unit: amount for unit, for_whom, amount in all_prices if for_whom == audience}
        return venue_rules.quote(end - start, prices, venue.half_day_hours)

    regular = rate(Audience.MEMBER if member else Audience.PUBLIC)
    terms = partners.terms_for(actor, venue, day, subscribed_elsewhere=elsewhere)
    if terms is None:
        return Quote(regular)
    public = rate(Audience.PUBLIC) if member else regular
    price = partner_rules.partner_price(regular=regular, public=public, percent=terms.discount_percent)
    return Quote(price.net_amount, terms, price.discount_percent)


def estimate_price(
    actor, resource: Resource, start: datetime, end: datetime, *, facts: BookingFacts | None = None
) -> Decimal | None:
    return quote(actor, resource, start, end, facts=facts).net_amount


def ensure_not_past_due(
    actor,
    resource: Resource,
    organisation: Organisation | None,
    *,
    staff: bool,
    policy: str | None = None,
) -> None:
    """The venue's past-due policy may suspend new bookings of whoever pays them until their overdue
    invoices are paid; the venue's staff book regardless. `policy`: the venue's PastDueAccess when already
    read; under KEEP nobody's invoices need reading."""
    venue = resource.venue
    if policy == PastDueAccess.KEEP:
        return
    if organisation is not None:
        restriction = overdue.access_restriction(venue, organisation=organisation)
    else:
        restriction = overdue.access_restriction(venue, actor)
    if not overdue.may_book(restriction):
        raise Conflict(
            _("%(venue)s suspends new bookings until the overdue invoices are paid.") % {"venue": venue.name},
            code="past_due",
        )
