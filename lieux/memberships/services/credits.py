"""Booking credits: granting lots, spending them on bookings, giving them back, expiring them.

Every change to a lot writes a ledger entry in the same transaction, so a lot's `remaining` always equals
the sum of its entries. Spending locks the person's candidate lots (SELECT … FOR UPDATE, in id order)
before reading their balances: two bookings made at the same instant queue on those rows instead of both
spending the same credits. On SQLite the IMMEDIATE transaction already serialises writers. The policies
(cost rounding, spending order, refunds to expired lots) are in memberships.rules.credits.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _

from lieux.accounts.models import User
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import ValidationError
from lieux.core.time import now
from lieux.memberships.models import (
    CreditEntry,
    CreditEntryKind,
    CreditLot,
    CreditRate,
    CreditType,
    Subscription,
    SubscriptionStatus,
)
from lieux.memberships.rules import credits as rules
from lieux.venues.models import Resource, Venue

# Subscriptions whose current period earns its credits. A past-due or paused member earns nothing until
# the subscription is back in order.
EARNING_STATUSES = (SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELLING)


@dataclass(frozen=True)
class Consumption:
    """What a booking took: `credits_used` of `credit_type` out of `cost`, written as `entries`."""

    credit_type: CreditType | None
    cost: Decimal
    credits_used: Decimal
    entries: list[CreditEntry] = field(default_factory=list)

    @property
    def coverage(self) -> rules.Coverage:
        return rules.Coverage(cost=self.cost, credits_used=self.credits_used)

    @property
    def covered_fraction(self) -> Decimal:
        return self.coverage.covered_fraction

    def billable(self, quoted_net_amount: Decimal | None) -> Decimal | None:
        return self.coverage.billable(quoted_net_amount)


NOTHING = Consumption(credit_type=None, cost=rules.ZERO, credits_used=rules.ZERO)


def local_today(venue: Venue) -> date:
    return now().astimezone(venue.tz).date()


def _as_rule_lot(lot: CreditLot) -> rules.Lot:
    return rules.Lot(lot.pk, lot.remaining, lot.granted_on, lot.expires_on)


def _write_grant(lot: CreditLot, *, note: str, actor: Any) -> None:
    CreditEntry.objects.create(lot=lot, kind=CreditEntryKind.GRANT, quantity=lot.granted, note=note[:200])
    audit.record(
        "memberships.credits.granted",
        lot,
        actor=actor,
        venue_id=lot.venue_id,
        person=lot.person_id,
        credit_type=lot.credit_type_id,
        quantity=str(lot.granted),
        expires_on=lot.expires_on.isoformat() if lot.expires_on else None,
        source=lot.source_key,
    )


def _create_lot(
    *,
    person_id: int,
    venue_id: int,
    credit_type_id: int,
    quantity: Decimal,
    granted_on: date,
    expires_on: date | None,
    source_key: str,
    note: str,
    actor: Any,
) -> CreditLot:
    """Create a lot and its grant entry, or return the lot already granted for `source_key` (a retried or
    concurrent grant for the same source adds nothing)."""
    existing = CreditLot.objects.filter(source_key=source_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            lot = CreditLot.objects.create(
                person_id=person_id,
                venue_id=venue_id,
                credit_type_id=credit_type_id,
                granted=quantity,
                remaining=quantity,
                granted_on=granted_on,
                expires_on=expires_on,
                source_key=source_key,
            )
            _write_grant(lot, note=note, actor=actor)
            return lot
    except IntegrityError:
        return CreditLot.objects.get(source_key=source_key)


def period_source_key(subscription_id: int, period_start: date, credit_type_id: int) -> str:
    return f"subscription:{subscription_id}:{period_start.isoformat()}:{credit_type_id}"


def grant_period_credits(
    *, subscription: Subscription, period_start: date, period_end: date, actor: Any = None
) -> list[CreditLot]:
    """One lot per credit grant of the subscription's plan for the period [period_start, period_end]
    (inclusive). Idempotent: granting a period twice returns the lots of the first time."""

    def write() -> list[CreditLot]:
        lots = []
        grants = subscription.plan.credit_grants.select_related("credit_type").order_by("credit_type_id")
        for grant in grants:
            if grant.quantity <= 0:
                continue
            lots.append(
                _create_lot(
                    person_id=subscription.member_id,
                    venue_id=subscription.venue_id,
                    credit_type_id=grant.credit_type_id,
                    quantity=grant.quantity,
                    granted_on=period_start,
                    expires_on=rules.grant_expiry(grant.rollover, grant.carry_months, period_end),
                    source_key=period_source_key(subscription.pk, period_start, grant.credit_type_id),
                    note=_("%(plan)s, %(start)s to %(end)s")
                    % {"plan": subscription.plan.name, "start": period_start, "end": period_end},
                    actor=actor,
                )
            )
        return lots

    return atomic_with_retry(write)


def grant_credits(
    *,
    person: User,
    venue: Venue,
    credit_type: CreditType,
    quantity: Decimal,
    expires_on: date | None,
    source_key: str,
    note: str = "",
    granted_on: date | None = None,
    actor: Any = None,
) -> CreditLot:
    """Grant credits outside a subscription (a prepaid pack, a payout for a contribution). Idempotent on
    `source_key`."""
    if credit_type.venue_id != venue.pk:
        raise ValidationError(_("This credit type belongs to another venue."), code="credit_type_venue")
    if quantity <= 0 or quantity != quantity.quantize(rules.QUANTUM):
        raise ValidationError(
            _("A credit grant must be a positive number with at most two decimals."), code="invalid_quantity"
        )
    granted_on = granted_on or local_today(venue)
    if expires_on is not None and expires_on < granted_on:
        raise ValidationError(_("The credits would expire before they are granted."), code="invalid_expiry")
    return atomic_with_retry(
        lambda: _create_lot(
            person_id=person.pk,
            venue_id=venue.pk,
            credit_type_id=credit_type.pk,
            quantity=quantity,
            granted_on=granted_on,
            expires_on=expires_on,
            source_key=source_key,
            note=note,
            actor=actor,
        )
    )


def lock_lots(person_id: int, venue_id: int, credit_type_ids: Iterable[int]) -> list[CreditLot]:
    """The person's lots of these types that still hold credits, locked in id order so that concurrent
    spenders queue on the same rows in the same order (no deadlock, no double spending)."""
    return list(
        CreditLot.objects.select_for_update()
        .filter(
            person_id=person_id, venue_id=venue_id, credit_type_id__in=list(credit_type_ids), remaining__gt=0
        )
        .order_by("pk")
    )


def partner_rates(
    *, resource: Resource, home_venue_id: int, credit_type_ids: Iterable[int]
) -> dict[int, Decimal]:
    """The conversion table of a partner venue's `resource` for credits of the home venue (Pass
    Interlieux), keyed by home credit type: an entry naming the home type itself, else the host's entry for
    its own type of the same code (the network's shared names, e.g. "heures-salle"). Empty when the
    resource has no such entry: then no credit pays for it."""
    home_types = CreditType.objects.filter(pk__in=list(credit_type_ids), venue_id=home_venue_id)
    by_code = {credit_type.code: credit_type.pk for credit_type in home_types}
    home_ids = set(by_code.values())
    direct: dict[int, Decimal] = {}
    same_code: dict[int, Decimal] = {}
    entries = CreditRate.objects.filter(resource=resource).select_related("credit_type").order_by("pk")
    for entry in entries:
        if entry.credit_type_id in home_ids:
            direct.setdefault(entry.credit_type_id, entry.credits_per_hour)
        elif entry.credit_type.venue_id == resource.venue_id and entry.credit_type.code in by_code:
            same_code.setdefault(by_code[entry.credit_type.code], entry.credits_per_hour)
    rates = same_code | direct
    return {type_id: rates[type_id] for type_id in sorted(rates)}


def consume_for_booking(
    *,
    person: User,
    venue: Venue,
    resource: Resource,
    hours: Decimal,
    reference: str,
    at: datetime,
    actor: Any = None,
    rates: dict[int, Decimal] | None = None,
) -> Consumption:
    """Spend the person's credits on a booking of `hours` of `resource` taking place at `at`, oldest expiry
    first, as far as they go. Runs inside the caller's transaction (the booking's), so a refused booking
    spends nothing. Returns NOTHING when the resource takes no credit the person holds.

    `venue` is the venue whose credits pay: the resource's own by default, with its conversion table; for a
    booking at a partner venue, the home venue, with `rates` from `partner_rates`."""
    if rates is None:
        rates = {
            rate.credit_type_id: rate.credits_per_hour
            for rate in CreditRate.objects.filter(resource=resource, credit_type__venue=venue).order_by(
                "credit_type_id"
            )
        }
    if not rates:  # the usual case: one indexed read and nothing else
        return NOTHING
    with transaction.atomic():
        lots = lock_lots(person.pk, venue.pk, rates)
        use_day = at.astimezone(venue.tz).date()
        today = local_today(venue)
        usable: dict[int, list[rules.Lot]] = defaultdict(list)
        by_id = {lot.pk: lot for lot in lots}
        for lot in lots:
            view = _as_rule_lot(lot)
            if rules.is_usable(view, on=use_day, today=today):
                usable[lot.credit_type_id].append(view)
        options = [
            rules.Option(
                type_id,
                rules.credit_cost(hours, per_hour),
                sum((x.remaining for x in usable[type_id]), rules.ZERO),
            )
            for type_id, per_hour in rates.items()
        ]
        chosen = rules.choose_option(options)
        if chosen is None:
            return NOTHING
        entries = []
        for lot_id, quantity in rules.allocate(chosen.cost, usable[chosen.credit_type_id]):
            lot = by_id[lot_id]
            lot.remaining -= quantity
            lot.save(update_fields=["remaining"])
            entries.append(
                CreditEntry.objects.create(
                    lot=lot, kind=CreditEntryKind.CONSUME, quantity=-quantity, reference=reference
                )
            )
        used = sum((-e.quantity for e in entries), rules.ZERO)
        elsewhere = {} if resource.venue_id == venue.pk else {"used_at_venue": resource.venue_id}
        audit.record(
            "memberships.credits.consumed",
            person,
            actor=actor,
            venue_id=venue.pk,
            reference=reference,
            credit_type=chosen.credit_type_id,
            cost=str(chosen.cost),
            used=str(used),
            lots={str(e.lot_id): str(-e.quantity) for e in entries},
            **elsewhere,
        )
        return Consumption(
            credit_type=CreditType.objects.get(pk=chosen.credit_type_id),
            cost=chosen.cost,
            credits_used=used,
            entries=entries,
        )


def held_by(reference: str) -> dict[int, Decimal]:
    """Credits `reference` still holds per lot: what it consumed net of what was given back."""
    totals = (
        CreditEntry.objects.filter(
            reference=reference, kind__in=[CreditEntryKind.CONSUME, CreditEntryKind.REFUND]
        )
        .values("lot_id")
        .annotate(total=Sum("quantity"))
    )
    return {row["lot_id"]: (-row["total"]).quantize(rules.QUANTUM) for row in totals if row["total"] < 0}


def refund_booking(*, reference: str, actor: Any = None, note: str = "") -> list[CreditEntry]:
    """Give back to each lot exactly what `reference` took from it and has not had back yet; a lot that has
    expired since gets nothing (see the rules). Idempotent: a second refund finds nothing to give."""
    with transaction.atomic():
        held = held_by(reference)
        if not held:
            return []
        lots = {
            lot.pk: lot for lot in CreditLot.objects.select_for_update().filter(pk__in=held).order_by("pk")
        }
        first = next(iter(lots.values()))
        today = local_today(first.venue)
        plan = rules.refunds(held, {pk: _as_rule_lot(lot) for pk, lot in lots.items()}, today)
        entries = []
        for lot_id, quantity in plan:
            lot = lots[lot_id]
            lot.remaining += quantity
            lot.save(update_fields=["remaining"])
            entries.append(
                CreditEntry.objects.create(
                    lot=lot,
                    kind=CreditEntryKind.REFUND,
                    quantity=quantity,
                    reference=reference,
                    note=note[:200],
                )
            )
        lost = {str(pk): str(q) for pk, q in held.items() if pk not in dict(plan)}
        audit.record(
            "memberships.credits.refunded",
            first.person,
            actor=actor,
            venue_id=first.venue_id,
            reference=reference,
            returned={str(e.lot_id): str(e.quantity) for e in entries},
            lost_to_expiry=lost,
        )
        return entries


def _expired_lots(today: date | None) -> QuerySet[CreditLot]:
    lots = CreditLot.objects.filter(remaining__gt=0, expires_on__isnull=False)
    if today is not None:
        return lots.filter(expires_on__lt=today)
    # Each venue's own calendar day: a lot expires at midnight where it is used.
    conditions = Q(pk__in=[])
    for venue in Venue.objects.filter(pk__in=lots.values("venue_id").distinct()):
        conditions |= Q(venue=venue, expires_on__lt=local_today(venue))
    return lots.filter(conditions)


def expire_lots(today: date | None = None) -> int:
    """Write off what is left of every lot past its expiry day. `today` defaults to each venue's local date.
    Idempotent: an expired lot holds nothing, so a second run finds nothing. Returns the lots expired."""

    def write() -> int:
        lots = list(_expired_lots(today).select_for_update().order_by("pk"))
        for lot in lots:
            quantity = lot.remaining
            CreditEntry.objects.create(lot=lot, kind=CreditEntryKind.EXPIRE, quantity=-quantity)
            lot.remaining = rules.ZERO
            lot.save(update_fields=["remaining"])
            audit.record(
                "memberships.credits.expired",
                lot,
                venue_id=lot.venue_id,
                person=lot.person_id,
                quantity=str(quantity),
                expires_on=lot.expires_on.isoformat() if lot.expires_on else None,
            )
        return len(lots)

    return atomic_with_retry(write)


def grant_current_periods(today: date | None = None) -> int:
    """Grant the current period's credits of every subscription that earns them and whose plan grants some,
    where they are missing (the subscription service grants them as periods start; this catches any that
    slipped). Reads which lots exist in batches and writes only the missing ones; returns the lots
    created."""
    subscriptions = (
        Subscription.objects.filter(status__in=EARNING_STATUSES, plan__credit_grants__quantity__gt=0)
        .select_related("plan", "venue")
        .prefetch_related("plan__credit_grants")
        .distinct()
        .order_by("pk")
    )
    days: dict[int, date] = {}
    expected: list[tuple[Subscription, list[str]]] = []
    for subscription in subscriptions:
        day = today or days.setdefault(subscription.venue_id, local_today(subscription.venue))
        start, end = subscription.current_period_start, subscription.current_period_end
        if not start <= day <= end:
            continue
        keys = [
            period_source_key(subscription.pk, start, grant.credit_type_id)
            for grant in subscription.plan.credit_grants.all()
            if grant.quantity > 0
        ]
        expected.append((subscription, keys))
    wanted = [key for _subscription, keys in expected for key in keys]
    existing: set[str] = set()
    for first in range(0, len(wanted), 500):
        existing.update(
            CreditLot.objects.filter(source_key__in=wanted[first : first + 500]).values_list(
                "source_key", flat=True
            )
        )
    created = 0
    for subscription, keys in expected:
        missing = [key for key in keys if key not in existing]
        if missing:
            grant_period_credits(
                subscription=subscription,
                period_start=subscription.current_period_start,
                period_end=subscription.current_period_end,
            )
            created += len(missing)
    return created
