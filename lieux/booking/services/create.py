from datetime import datetime, timedelta

from django.conf import settings

from lieux.accounts.models import Organisation
from lieux.booking.models import Booking, Status
from lieux.booking.selectors_facts import booking_facts
from lieux.booking.services import checks
from lieux.booking.services.credits import spend_credits
from lieux.booking.services.occupancy import occupy
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.time import now
from lieux.venues.models import Resource


def initial_status(resource: Resource, *, staff: bool, hold: bool) -> str:
    if hold:
        return Status.HELD
    if resource.approval_required and not staff:
        return Status.PENDING
    return Status.CONFIRMED


def create_booking(
    *,
    actor,
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime,
    title: str,
    notes: str = "",
    organisation: Organisation | None = None,
    hold: bool = False,
) -> Booking:
    """Book a resource. Confirmed at once, pending when the resource needs approval, or held for
    LIEUX_HOLD_MINUTES while the person completes it (`confirm_hold`). Raises BookingConflict (409) when
    the slot is taken, BookingInvalid (422) when it breaks a rule; writes nothing in either case.

    Everything checked is read first, in one statement (selectors_facts.booking_facts); the transaction
    then locks the units, inserts the booking, its occupancies and its audit row, and spends credits only
    where the resource takes them."""
    facts = booking_facts(actor=actor, resource=resource, start=starts_at, organisation=organisation)
    resource, staff = facts.resource, facts.staff
    checks.ensure_may_book(actor, resource, staff=staff, member=facts.member)
    checks.ensure_may_pay_for(actor, organisation, staff=staff, belongs=facts.in_organisation)
    checks.ensure_not_past_due(actor, resource, organisation, staff=staff, policy=facts.past_due_policy)
    checks.ensure_valid_slot(resource, starts_at, ends_at, staff=staff, facts=facts)
    quote = checks.quote(actor, resource, starts_at, ends_at, facts=facts)
    price = quote.net_amount
    status = initial_status(resource, staff=staff, hold=hold)

    def write() -> Booking:
        booking = Booking.objects.create(
            venue=resource.venue,
            resource=resource,
            booked_by=actor,
            organisation=organisation,
            title=title.strip() or resource.name,
            notes=notes,
            starts_at=starts_at,
            ends_at=ends_at,
            status=status,
            hold_expires_at=now() + timedelta(minutes=settings.LIEUX_HOLD_MINUTES) if hold else None,
            quoted_net_amount=price,
            billable_net_amount=price,
        )
        occupy(booking, starts_at, ends_at, fresh=True, units=facts.units)
        spend_credits(booking, actor=actor, quote=quote, takes_own_credits=facts.takes_credits)
        if booking.credits_used:
            booking.save(update_fields=["credits_used", "billable_net_amount"])
        audit.record(
            f"booking.booking.{'held' if hold else 'created'}",
            booking,
            actor=actor,
            venue_id=booking.venue_id,
            status=status,
            resource=resource.pk,
            start=starts_at.isoformat(),
            end=ends_at.isoformat(),
            credits_used=str(booking.credits_used),
            partner_venue=booking.partner_venue_id,
            credits_venue=booking.credits_venue_id,
        )
        return booking

    return atomic_with_retry(write)
