"""Giving a plan its network access (the Pass Interlieux it sells), changing it, or taking it away.

The plan's venue decides, like everything else about its plans: its team sets which venues of the network
the plan opens, on which days and hours, how many days a month at each, and the terms of bookings there.
What the partner venues agreed to is the network's business (its charter, its clearing key); the platform
only checks that the hosts belong to the plan's network. Every change is audited: it changes who may
enter where.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from lieux.core import audit
from lieux.core.errors import Conflict, Forbidden, ValidationError
from lieux.interlieux.models import NetworkAccess
from lieux.memberships.models import Plan
from lieux.venues import selectors as venue_selectors
from lieux.venues.models import Venue

MAX_DAYS_PER_MONTH = 31


@dataclass(frozen=True)
class AccessTerms:
    """What `set_network_access` writes, once checked."""

    host_ids: tuple[int, ...]
    weekdays: str
    starts_at: time | None
    ends_at: time | None
    days_per_month: int | None
    booking_discount_percent: Decimal
    partner_bookings_use_credits: bool


def _ensure_staff(actor: Any, plan: Plan) -> None:
    if actor is None:  # the platform itself (the demo, imports)
        return
    if not venue_selectors.is_staff_of(actor, plan.venue_id):
        raise Forbidden(_("Only the venue's staff may change its plans."), code="not_venue_staff")


def _weekdays(days: Iterable[int | str]) -> str:
    numbers = set()
    for day in days:
        try:
            number = int(day)
        except (TypeError, ValueError):
            number = -1
        if not 0 <= number <= 6:
            raise ValidationError(
                _("Days of the week go from 0 (Monday) to 6 (Sunday)."),
                code="invalid_weekdays",
                field="weekdays",
            )
        numbers.add(number)
    if not numbers:
        raise ValidationError(
            _("Choose at least one day of the week."), code="invalid_weekdays", field="weekdays"
        )
    return "".join(str(n) for n in sorted(numbers))


def check_terms(
    *,
    plan: Plan,
    host_venues: Iterable[Venue],
    weekdays: Iterable[int | str],
    starts_at: time | None,
    ends_at: time | None,
    days_per_month: int | None,
    booking_discount_percent: Decimal,
    partner_bookings_use_credits: bool,
) -> AccessTerms:
    """Every argument checked, before anything is written."""
    hosts = list(host_venues)
    if not hosts:
        raise ValidationError(
            _("Choose at least one venue where the pass is valid."), code="no_host_venue", field="host_venues"
        )
    network_id = Venue.objects.filter(pk=plan.venue_id).values_list("network_id", flat=True).get()
    if any(host.network_id != network_id for host in hosts):
        raise ValidationError(
            _("The pass can only open venues of the plan's own network."),
            code="host_outside_network",
            field="host_venues",
        )
    if (starts_at is None) != (ends_at is None):
        raise ValidationError(
            _("Give both times of the window, or neither to follow the venues' hours."),
            code="invalid_window",
            field="ends_at",
        )
    if starts_at is not None and ends_at is not None and not starts_at < ends_at:
        raise ValidationError(
            _("The window must end after it starts."), code="invalid_window", field="ends_at"
        )
    if days_per_month is not None and not 1 <= days_per_month <= MAX_DAYS_PER_MONTH:
        raise ValidationError(
            _("Days per month go from 1 to 31; leave it empty for no limit."),
            code="invalid_days_per_month",
            field="days_per_month",
        )
    discount = Decimal(booking_discount_percent)
    if not discount.is_finite() or not 0 <= discount <= 100:
        raise ValidationError(
            _("A discount is a percentage from 0 to 100."),
            code="invalid_discount",
            field="booking_discount_percent",
        )
    return AccessTerms(
        host_ids=tuple(sorted({host.pk for host in hosts})),
        weekdays=_weekdays(weekdays),
        starts_at=starts_at,
        ends_at=ends_at,
        days_per_month=days_per_month,
        booking_discount_percent=discount.quantize(Decimal("0.01")),
        partner_bookings_use_credits=bool(partner_bookings_use_credits),
    )


def _described(access: NetworkAccess, host_ids: Iterable[int]) -> dict[str, Any]:
    return {
        "host_venue_ids": sorted(host_ids),
        "weekdays": access.weekdays,
        "starts_at": access.starts_at.isoformat() if access.starts_at else None,
        "ends_at": access.ends_at.isoformat() if access.ends_at else None,
        "days_per_month": access.days_per_month,
        "booking_discount_percent": str(access.booking_discount_percent),
        "partner_bookings_use_credits": access.partner_bookings_use_credits,
    }


def set_network_access(
    *,
    plan: Plan,
    host_venues: Iterable[Venue],
    weekdays: Iterable[int | str] = range(7),
    starts_at: time | None = None,
    ends_at: time | None = None,
    days_per_month: int | None = None,
    booking_discount_percent: Decimal = Decimal(0),
    partner_bookings_use_credits: bool = False,
    actor: Any = None,
) -> NetworkAccess:
    """Create the plan's network access, or replace its terms. Subscribers' rights follow at once: the
    access check reads the plan's current terms."""
    _ensure_staff(actor, plan)
    terms = check_terms(
        plan=plan,
        host_venues=host_venues,
        weekdays=weekdays,
        starts_at=starts_at,
        ends_at=ends_at,
        days_per_month=days_per_month,
        booking_discount_percent=booking_discount_percent,
        partner_bookings_use_credits=partner_bookings_use_credits,
    )
    values = {
        "weekdays": terms.weekdays,
        "starts_at": terms.starts_at,
        "ends_at": terms.ends_at,
        "days_per_month": terms.days_per_month,
        "booking_discount_percent": terms.booking_discount_percent,
        "partner_bookings_use_credits": terms.partner_bookings_use_credits,
    }
    try:
        with transaction.atomic():
            # The plan's row is the lock: two saves of the same plan's access run one after the other.
            Plan.objects.select_for_update().filter(pk=plan.pk).first()
            access = NetworkAccess.objects.filter(plan=plan).first()
            created = access is None
            before = None
            if access is None:
                access = NetworkAccess.objects.create(plan=plan, **values)
            else:
                before = _described(access, access.host_venues.values_list("pk", flat=True))
                for field, value in values.items():
                    setattr(access, field, value)
                access.save(update_fields=list(values))
            access.host_venues.set(terms.host_ids)
            after = _described(access, terms.host_ids)
            if before != after:
                audit.record(
                    "interlieux.network_access.created" if created else "interlieux.network_access.changed",
                    access,
                    actor=actor,
                    venue_id=plan.venue_id,
                    plan_id=plan.pk,
                    before=before,
                    after=after,
                )
    except IntegrityError:
        raise Conflict(
            _("The network access of this plan was saved at the same time; reload and try again."),
            code="network_access_race",
        ) from None
    return access


def remove_network_access(*, plan: Plan, actor: Any = None) -> bool:
    """Take the plan out of the network: it opens its own venue's door only. False when it had no access."""
    _ensure_staff(actor, plan)
    with transaction.atomic():
        access = NetworkAccess.objects.select_for_update().filter(plan=plan).first()
        if access is None:
            return False
        before = _described(access, access.host_venues.values_list("pk", flat=True))
        audit.record(
            "interlieux.network_access.removed",
            access,
            actor=actor,
            venue_id=plan.venue_id,
            plan_id=plan.pk,
            before=before,
        )
        access.delete()
    return True
