from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from lieux.accounts.models import Organisation
from lieux.booking.errors import BookingConflict, BookingInvalid
from lieux.booking.models import Booking, BookingSeries, ConflictPolicy
from lieux.booking.rules import Recurrence, expand
from lieux.booking.selectors_facts import booking_facts
from lieux.booking.services import checks
from lieux.booking.services.create import initial_status
from lieux.booking.services.credits import spend_credits
from lieux.booking.services.occupancy import occupy
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.venues.models import Resource


@dataclass
class Skipped:
    local_start: datetime
    code: str
    detail: str


@dataclass
class SeriesResult:
    series: BookingSeries | None
    booked: list[Booking] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def create_series(
    *,
    actor,
    resource: Resource,
    starts_at: datetime,
    ends_at: datetime,
    title: str,
    recurrence: Recurrence,
    policy: str = ConflictPolicy.SKIP,
    notes: str = "",
    organisation: Organisation | None = None,
) -> SeriesResult:
    """Book every occurrence of a recurrence, expanded in the venue's wall time.

    With the SKIP policy the free occurrences are booked and the others reported; with ALL_OR_NOTHING a
    single refused occurrence books none, and the error lists every refused one.
    """
    # The rights, prices and units hold for every occurrence; the calendar and partner terms of the first
    # occurrence's day come with them, other days' are read for each.
    facts = booking_facts(actor=actor, resource=resource, start=starts_at, organisation=organisation)
    resource, staff = facts.resource, facts.staff
    checks.ensure_may_book(actor, resource, staff=staff, member=facts.member)
    checks.ensure_may_pay_for(actor, organisation, staff=staff, belongs=facts.in_organisation)
    checks.ensure_not_past_due(actor, resource, organisation, staff=staff, policy=facts.past_due_policy)
    if policy not in ConflictPolicy.values:
        raise BookingInvalid(_("Unknown conflict policy."), code="invalid_policy")
    try:
        occurrences = expand(starts_at, ends_at, recurrence, resource.venue.tz)
    except ValueError as error:
        raise BookingInvalid(str(error), code="invalid_recurrence") from error

    def write() -> SeriesResult:
        series = BookingSeries.objects.create(
            venue_id=resource.venue_id,
            resource=resource,
            booked_by=actor,
            frequency=recurrence.frequency,
            interval=recurrence.interval,
            count=recurrence.count,
            until_on=recurrence.until,
            weekdays=list(recurrence.weekdays),
            exceptions=[d.isoformat() for d in recurrence.exceptions],
            policy=policy,
        )
        result = SeriesResult(series=series)
        status = initial_status(resource, staff=staff, hold=False)
        for occurrence in occurrences:
            if occurrence.start is None or occurrence.end is None:
                result.skipped.append(
                    Skipped(
                        occurrence.local_start,
                        "nonexistent_local_time",
                        _("This time does not exist that day (change to summer time)."),
                    )
                )
                continue
            problems = checks.slot_problems(
                resource, occurrence.start, occurrence.end, staff=staff, facts=facts
            )
            if problems:
                result.skipped.append(Skipped(occurrence.local_start, problems[0][0], problems[0][1]))
                continue
            quote = checks.quote(actor, resource, occurrence.start, occurrence.end, facts=facts)
            price = quote.net_amount
            try:
                with transaction.atomic():  # a savepoint: one refused occurrence leaves the others
                    booking = Booking.objects.create(
                        venue_id=resource.venue_id,
                        resource=resource,
                        booked_by=actor,
                        organisation=organisation,
                        series=series,
                        title=title.strip() or resource.name,
                        notes=notes,
                        starts_at=occurrence.start,
                        ends_at=occurrence.end,
                        status=status,
                        quoted_net_amount=price,
                        billable_net_amount=price,
                    )
                    occupy(booking, occurrence.start, occurrence.end, fresh=True, units=facts.units)
                    # Occurrences are booked in date order, so the earliest ones spend the credits first.
                    spend_credits(booking, actor=actor, quote=quote, takes_own_credits=facts.takes_credits)
                    if booking.credits_used:
                        booking.save(update_fields=["credits_used", "billable_net_amount"])
            except BookingConflict as conflict:
                result.skipped.append(Skipped(occurrence.local_start, conflict.code, str(conflict.message)))
                continue
            result.booked.append(booking)
        if policy == ConflictPolicy.ALL_OR_NOTHING and result.skipped:
            raise SeriesRefused(result.skipped)
        if not result.booked:
            raise SeriesRefused(result.skipped)
        audit.record(
            "booking.series.created",
            series,
            actor=actor,
            venue_id=resource.venue_id,
            booked=[b.pk for b in result.booked],
            skipped=[s.local_start.isoformat() for s in result.skipped],
        )
        return result

    return atomic_with_retry(write)


class SeriesRefused(BookingConflict):
    code = "series_refused"

    def __init__(self, skipped: list[Skipped]) -> None:
        super().__init__(
            _("%(n)s occurrence(s) cannot be booked; nothing was booked.") % {"n": len(skipped)},
            refused=[
                {"start": s.local_start.isoformat(), "code": s.code, "detail": s.detail} for s in skipped
            ],
        )
