"""The billing run: every period that starts, invoiced once, then the other billing sources (bookings).

`run_billing(period=date(2026, 12, 1))` moves each running subscription forward to the periods that have
started by the end of that month (and not after today): a trial that is over becomes active, a subscription
given notice ends after its last day, a plan change planned for the period end takes effect, a paused one
stays where it is. Each period entered is invoiced at its start (the plan's price step in force on its
first day) and earns its credits. Periods an earlier, missed run left behind are caught up on the way,
so a scheduler that stopped for a while loses nothing.

A period is invoiced when the subscription enters it: the first one by `subscribe` (or `resume`), the
following ones here. A period written by other code (an import of memberships paid elsewhere) is that
code's to invoice or link; the run never invoices a period it did not open, so it cannot bill twice what
was sold elsewhere.

Safe to kill and to run twice at once:

- the subscriptions of one venue are billed in batches (`batch_size`), one short transaction per batch,
  which locks the batch's subscription rows first (rows another run holds are skipped and counted as busy:
  that run is doing them); the invoices, their period links, their numbers and the credits commit
  together or not at all, so a killed run burns no number and leaves no half-done period;
- a batch holds its venue's issuing lock once, takes its numbers in one counter update and writes its
  rows in bulk (`billing.services.issue.issue_new_documents`); a subscription the batch cannot take as it
  comes (an error, a plan change, a trial or an end to apply, a period already linked) is billed after it
  in a transaction of its own, so one failing subscription never holds the others back;
- the period invoice is keyed by the unique (subscription, period_start) constraint of
  SubscriptionInvoice and by the draft's source_key: the database refuses a second one whatever happens;
- a restarted run finds the periods already entered and invoiced, and goes on from there.

Packs and day passes are invoiced when bought; the run only ends them when their validity is over.
`dry_run=True` computes what would be issued, with counts and totals per venue, and writes nothing.
"""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError
from django.db.models import Q
from django.utils.translation import gettext as _

from lieux.billing.errors import NothingToInvoice
from lieux.billing.models import Invoice
from lieux.billing.services.drafts import Draft
from lieux.billing.services.issue import issue_new_documents
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import DomainError
from lieux.core.money import ZERO
from lieux.core.time import now
from lieux.memberships import hooks
from lieux.memberships.models import (
    DeskMode,
    Interval,
    Plan,
    Subscription,
    SubscriptionEvent,
    SubscriptionInvoice,
)
from lieux.memberships.rules import periods, states
from lieux.memberships.services import invoicing
from lieux.memberships.services.invoicing import anchor_of, current_period, log_event, transition
from lieux.venues.models import Venue

logger = logging.getLogger(__name__)

Progress = Callable[[str], object]
Outcome = tuple[str, list[str]]  # the subscription's label, what was done

# Subscriptions of one venue billed in one transaction: large enough that the fixed cost of a transaction
# (the issuing lock, the counter, a dozen bulk statements) is spread thin, small enough that the venue's
# issuing lock is never held for long and a killed run loses little work.
BATCH_SIZE = 200
# The steps a batch applies itself; a subscription with any other (a trial ending, a plan change, an end)
# runs its hooks and transitions in a transaction of its own.
BATCHED_STEPS = frozenset({"renew", "bill"})


@dataclass
class VenueTotals:
    invoices: int = 0
    net_amount: Decimal = ZERO
    vat_amount: Decimal = ZERO
    gross_amount: Decimal = ZERO

    def add(self, net: Decimal, vat: Decimal, gross: Decimal) -> None:
        self.invoices += 1
        self.net_amount += net
        self.vat_amount += vat
        self.gross_amount += gross


@dataclass
class RunReport:
    month: periods.Period
    dry_run: bool
    subscriptions: int = 0  # subscriptions looked at
    invoices: int = 0  # period invoices issued by this run (or that it would issue)
    already_invoiced: int = 0  # found issued by an earlier run or at subscription
    free_periods: int = 0  # periods entered with nothing to invoice
    renewed: int = 0  # periods entered
    activated: int = 0  # trials become active
    plan_changes: int = 0  # plan changes planned for period end, applied
    ended: int = 0
    busy: int = 0  # held by a concurrent run, which is doing them
    errors: list[str] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)  # other billing sources: items billed
    venues: dict[str, VenueTotals] = field(default_factory=dict)
    invoice_ids: list[int] = field(default_factory=list)

    def totals_for(self, venue: Venue) -> VenueTotals:
        return self.venues.setdefault(venue.slug, VenueTotals())

    @property
    def gross_amount(self) -> Decimal:
        return sum((t.gross_amount for t in self.venues.values()), ZERO)

    def summary(self) -> list[str]:
        verb = _("would issue") if self.dry_run else _("issued")
        lines = [
            _(
                "Billing run %(month)s%(dry)s: %(subscriptions)s subscriptions, "
                "%(invoices)s invoices %(verb)s, %(existing)s already invoiced, %(free)s free periods, "
                "%(renewed)s periods started, "
                "%(activated)s trials ended, %(changes)s plan changes, %(ended)s ended, %(busy)s busy, "
                "%(errors)s errors"
            )
            % {
                "month": f"{self.month.start:%Y-%m}",
                "dry": " " + _("(dry run)") if self.dry_run else "",
                "subscriptions": self.subscriptions,
                "invoices": self.invoices,
                "verb": verb,
                "existing": self.already_invoiced,
                "free": self.free_periods,
                "renewed": self.renewed,
                "activated": self.activated,
                "changes": self.plan_changes,
                "ended": self.ended,
                "busy": self.busy,
                "errors": len(self.errors),
            }
        ]
        for slug, totals in sorted(self.venues.items()):
            lines.append(
                _(
                    "  %(venue)s: %(count)s invoices, %(net)s € excl. VAT, %(vat)s € VAT, "
                    "%(gross)s € incl. VAT"
                )
                % {
                    "venue": slug,
                    "count": totals.invoices,
                    "net": totals.net_amount,
                    "vat": totals.vat_amount,
                    "gross": totals.gross_amount,
                }
            )
        for name, count in sorted(self.sources.items()):
            lines.append(_("  %(source)s: %(count)s billed") % {"source": name, "count": count})
        lines.extend(f"  ! {error}" for error in self.errors)
        return lines


# Planning: what happens to one subscription, computed without writing anything.


@dataclass
class _Cursor:
    status: str
    plan: Plan
    next_plan: Plan | None
    anchor: date
    period: periods.Period
    ends_on: date | None


@dataclass(frozen=True)
class _Step:
    kind: str  # bill | renew | activate | switch | end
    period: periods.Period
    plan: Plan
    anchor: date | None = None


def plan_steps(cursor: _Cursor, *, limit: date) -> list[_Step]:
    """The steps that bring a subscription to the period in force on `limit` (pure: the cursor is a copy)."""
    steps: list[_Step] = []
    if cursor.plan.interval == Interval.ONCE:
        if cursor.period.end < limit:
            steps.append(_Step("end", cursor.period, cursor.plan))
        return steps
    while cursor.period.end < limit:
        next_start = cursor.period.end + periods.ONE_DAY
        ending = cursor.ends_on is not None and cursor.ends_on < next_start
        if ending or (cursor.status == states.CANCELLING and cursor.ends_on is None):
            steps.append(_Step("end", cursor.period, cursor.plan))
            break
        if cursor.status == states.TRIAL:
            steps.append(_Step("activate", cursor.period, cursor.plan))
            cursor.status = states.ACTIVE
        if cursor.next_plan is not None:
            if cursor.next_plan.interval != cursor.plan.interval:
                cursor.anchor = next_start  # yearly after monthly (or back): periods counted afresh
            cursor.plan, cursor.next_plan = cursor.next_plan, None
            steps.append(_Step("switch", cursor.period, cursor.plan, anchor=cursor.anchor))
        cursor.period = periods.period_containing(cursor.anchor, cursor.plan.interval, next_start)
        steps.append(_Step("renew", cursor.period, cursor.plan))
        if cursor.status in states.BILLABLE:
            steps.append(_Step("bill", cursor.period, cursor.plan))
    return steps


def _cursor(subscription: Subscription) -> _Cursor:
    return _Cursor(
        status=subscription.status,
        plan=subscription.plan,
        next_plan=subscription.next_plan,
        anchor=anchor_of(subscription),
        period=current_period(subscription),
        ends_on=subscription.ends_on,
    )


# Running


class _Run:
    def __init__(self, report: RunReport, *, as_of: date | None, progress: Progress) -> None:
        self.report = report
        self.as_of = as_of
        self.progress = progress
        self._steps: dict[int, list[periods.PriceStep]] = {}
        self._grants: dict[int, bool] = {}

    def limit_for(self, venue: Venue) -> date:
        today = self.as_of or invoicing.local_today(venue)
        return min(today, self.report.month.end)

    def grants_credits(self, plan: Plan) -> bool:
        if plan.pk not in self._grants:
            self._grants[plan.pk] = plan.credit_grants.filter(quantity__gt=0).exists()
        return self._grants[plan.pk]

    def steps(self, plan: Plan) -> list[periods.PriceStep]:
        if plan.pk not in self._steps:
            self._steps[plan.pk] = invoicing.steps_of(plan)
        return self._steps[plan.pk]

    def candidates(self, venue: Venue | None) -> list[tuple[int, int]]:
        """Running subscriptions whose current period ended before the limit (a period to start, an end to
        reach), oldest venue first, then in id order."""
        venues = Venue.objects.all() if venue is None else Venue.objects.filter(pk=venue.pk)
        due = Q(pk__in=[])
        for timezone in venues.order_by().values_list("timezone", flat=True).distinct():
            sample = venues.filter(timezone=timezone).first()
            assert sample is not None
            due |= Q(venue__timezone=timezone, current_period_end__lt=self.limit_for(sample))
        subscriptions = Subscription.objects.filter(status__in=states.RUNNING).filter(due)
        if venue is not None:
            subscriptions = subscriptions.filter(venue=venue)
        return list(subscriptions.order_by("venue_id", "pk").values_list("venue_id", "pk"))

    # A batch of subscriptions of one venue, for real

    def bill_batch(self, subscription_ids: list[int]) -> dict[int, Outcome]:
        """Bill the subscriptions (all of one venue) in one transaction; those the batch leaves out, or all
        of them if the batch fails, one by one after it."""
        try:
            batch = atomic_with_retry(lambda: self._bill_batch_locked(subscription_ids))
        except Exception:  # rolled back whole; one by one, a failing subscription fails alone
            logger.warning(
                "billing batch of %s subscriptions rolled back; billing them one by one",
                len(subscription_ids),
                exc_info=True,
            )
            batch = _Batch(alone=list(subscription_ids))
        else:
            batch.count_in(self.report)
        outcomes = dict(batch.outcomes)
        for subscription_id in batch.alone:
            outcomes[subscription_id] = self.bill_alone(subscription_id)
        return outcomes

    def bill_alone(self, subscription_id: int) -> Outcome:
        """One subscription in its own transaction; an error is reported, not raised."""
        try:
            return self.bill(subscription_id)
        except Exception as error:  # one broken subscription must not stop the others; the next run retries
            return f"#{subscription_id}", _failed(self.report, f"#{subscription_id}", error)

    def _bill_batch_locked(self, subscription_ids: list[int]) -> "_Batch":
        batch = _Batch()
        locked = lock_for_billing(subscription_ids)
        planned: list[_Planned] = []
        for subscription_id in subscription_ids:
            subscription = locked.get(subscription_id)
            if subscription is None:
                batch.busy += 1
                batch.outcomes[subscription_id] = (f"#{subscription_id}", [_("busy (another run holds it)")])
                continue
            label = _label(subscription)
            if subscription.status not in states.RUNNING:
                batch.outcomes[subscription_id] = (label, [_("nothing to do")])
                continue
            steps = plan_steps(_cursor(subscription), limit=self.limit_for(subscription.venue))
            if not steps:
                batch.outcomes[subscription_id] = (label, [_("up to date")])
                continue
            if any(step.kind not in BATCHED_STEPS for step in steps):
                batch.alone.append(subscription_id)
                continue
            try:
                drafts = [self._draft(subscription, step) if step.kind == "bill" else None for step in steps]
            except Exception:  # billed alone, where its error is reported
                batch.alone.append(subscription_id)
                continue
            planned.append(_Planned(subscription, label, steps, drafts))
        planned = self._without_documents_written_before(planned, batch)
        if planned:
            self._write_batch(planned, batch)
        return batch

    def _draft(self, subscription: Subscription, step: _Step) -> Draft | None:
        try:
            return invoicing.period_draft(
                subscription=subscription, period=step.period, plan=step.plan, steps=self.steps(step.plan)
            )
        except NothingToInvoice:
            return None  # a free period: no invoice, not an error

    def _without_documents_written_before(
        self, planned: list["_Planned"], batch: "_Batch"
    ) -> list["_Planned"]:
        """Leave to the one-by-one path the periods someone already linked or invoiced (it finds and
        finishes them); the constraints would refuse the batch's rows anyway."""
        periods_billed = {
            (p.subscription.pk, s.period.start) for p in planned for s in p.steps if s.kind == "bill"
        }
        if not periods_billed:
            return planned
        linked = set(
            SubscriptionInvoice.objects.filter(
                subscription_id__in={key[0] for key in periods_billed},
                period_start__in={key[1] for key in periods_billed},
            ).values_list("subscription_id", "period_start")
        )
        keys = {invoicing.period_key(*key): key[0] for key in periods_billed}
        written = Invoice.objects.filter(
            venue_id__in={p.subscription.venue_id for p in planned}, source_key__in=list(keys)
        ).values_list("source_key", flat=True)
        invoiced = {keys[key] for key in written if key is not None}
        taken = {key[0] for key in linked & periods_billed} | invoiced
        batch.alone.extend(p.subscription.pk for p in planned if p.subscription.pk in taken)
        return [p for p in planned if p.subscription.pk not in taken]

    def _write_batch(self, planned: list["_Planned"], batch: "_Batch") -> None:
        """The batch's writes: the invoices issued together, then the period links, the events, the audit
        rows and the subscriptions' new periods, each in one statement; then the credits earned."""
        invoices = iter(issue_new_documents([d for p in planned for d in p.drafts if d is not None]))
        links: list[SubscriptionInvoice] = []
        events: list[SubscriptionEvent] = []
        audits = []
        stamp = now()
        for item in planned:
            subscription, done = item.subscription, []
            for step, draft in zip(item.steps, item.drafts, strict=True):
                dates = {"start": step.period.start.isoformat(), "end": step.period.end.isoformat()}
                if step.kind == "renew":
                    subscription.current_period_start = step.period.start
                    subscription.current_period_end = step.period.end
                    events.append(invoicing.new_event(subscription, "period", **dates))
                    audits.append(
                        audit.entry(
                            "memberships.subscription.renewed",
                            subscription,
                            venue_id=subscription.venue_id,
                            plan=subscription.plan_id,
                            **dates,
                        )
                    )
                    batch.renewed += 1
                elif draft is None:
                    batch.free_periods += 1
                    done.append(_("free period %(start)s–%(end)s") % _dates(step.period))
                else:
                    invoice = next(invoices)
                    links.append(
                        SubscriptionInvoice(
                            subscription=subscription,
                            period_start=step.period.start,
                            period_end=step.period.end,
                            invoice=invoice,
                        )
                    )
                    events.append(invoicing.document_event(subscription, invoice, plan=step.plan.pk))
                    batch.invoices.append((subscription.venue, invoice))
                    done.append(_issued(invoice, step.period))
            subscription.updated_at = stamp
            batch.outcomes[subscription.pk] = (item.label, done or [_("up to date")])
        SubscriptionInvoice.objects.bulk_create(links)
        SubscriptionEvent.objects.bulk_create(events)
        audit.record_all(audits)
        # One UPDATE per new period rather than a CASE over the batch: the periods of a month start on a
        # few anchor days, so a batch has few distinct ones.
        by_period: dict[tuple[date, date], list[int]] = {}
        for item in planned:
            subscription = item.subscription
            key = (subscription.current_period_start, subscription.current_period_end)
            by_period.setdefault(key, []).append(subscription.pk)
        for (start, end), ids in by_period.items():
            Subscription.objects.filter(pk__in=ids).update(
                current_period_start=start, current_period_end=end, updated_at=stamp
            )
        for item in planned:
            for step in item.steps:
                if step.kind == "bill" and self.grants_credits(step.plan):
                    invoicing.grant_credits(subscription=item.subscription, period=step.period)

    # One subscription, for real

    def bill(self, subscription_id: int) -> tuple[str, list[str]]:
        for attempt in range(2):
            try:
                return atomic_with_retry(lambda: self._bill_locked(subscription_id))
            except IntegrityError:
                # A concurrent writer got there first (a run without the lock, a plan change): the second
                # attempt reads what it wrote and goes on from there.
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _bill_locked(self, subscription_id: int) -> tuple[str, list[str]]:
        subscription = lock_for_billing([subscription_id]).get(subscription_id)
        if subscription is None:
            self.report.busy += 1
            return f"#{subscription_id}", [_("busy (another run holds it)")]
        label = _label(subscription)
        if subscription.status not in states.RUNNING:
            return label, [_("nothing to do")]
        steps = plan_steps(_cursor(subscription), limit=self.limit_for(subscription.venue))
        done: list[str] = []
        changed: set[str] = set()  # the row is written once, at the end (see `_write`)
        for step in steps:
            if step.kind == "bill":
                done.append(self._issue(subscription, step))
            elif step.kind == "renew":
                subscription.current_period_start = step.period.start
                subscription.current_period_end = step.period.end
                changed |= {"current_period_start", "current_period_end"}
                dates = {"start": step.period.start.isoformat(), "end": step.period.end.isoformat()}
                log_event(subscription, "period", **dates)
                audit.record(
                    "memberships.subscription.renewed",
                    subscription,
                    venue_id=subscription.venue_id,
                    plan=subscription.plan_id,
                    **dates,
                )
                self.report.renewed += 1
            elif step.kind == "activate":
                transition(
                    subscription,
                    states.ACTIVE,
                    actor=None,
                    action="activated",
                    trial_ended_on=str(step.period.end),
                )
                changed.add("status")
                self.report.activated += 1
                done.append(_("trial over"))
            elif step.kind == "switch":
                self._switch(subscription, step)
                changed |= {"plan", "next_plan", "billing_anchor_on", "desk"}
                done.append(_("now on %(plan)s") % {"plan": step.plan.name})
            elif step.kind == "end":
                end_on = subscription.ends_on or step.period.end
                transition(subscription, states.ENDED, actor=None, action="ended", ends_on=end_on.isoformat())
                subscription.ends_on, subscription.next_plan = end_on, None
                changed |= {"status", "ends_on", "next_plan"}
                self.report.ended += 1
                done.append(_("ended on %(day)s") % {"day": f"{end_on:%d/%m/%Y}"})
        if changed:
            # One UPDATE, after the invoices: the row lock taken at the start is what keeps a concurrent run
            # out, not the order of the writes.
            subscription.updated_at = now()
            subscription.save(update_fields=sorted(changed | {"updated_at"}))
        if subscription.status == states.ENDED:
            invoicing.run_ended_hooks(subscription)
        elif "plan" in changed:
            invoicing.run_started_hooks(subscription)
        return label, done or [_("up to date")]

    def _issue(self, subscription: Subscription, step: _Step) -> str:
        result = invoicing.invoice_period(
            subscription=subscription, period=step.period, plan=step.plan, steps=self.steps(step.plan)
        )
        if self.grants_credits(step.plan):
            invoicing.grant_credits(subscription=subscription, period=step.period)
        invoice = result.invoice
        if invoice is None:
            self.report.free_periods += 1
            return _("free period %(start)s–%(end)s") % _dates(step.period)
        if not result.created:
            self.report.already_invoiced += 1
            return _("%(number)s already issued") % {"number": invoice.number}
        self._count(subscription.venue, invoice)
        return _issued(invoice, step.period)

    def _count(self, venue: Venue, invoice: Invoice) -> None:
        self.report.invoices += 1
        self.report.invoice_ids.append(invoice.pk)
        self.report.totals_for(venue).add(invoice.net_amount, invoice.vat_amount, invoice.gross_amount)

    def _switch(self, subscription: Subscription, step: _Step) -> None:
        previous = subscription.plan
        subscription.plan, subscription.next_plan = step.plan, None
        subscription.billing_anchor_on = step.anchor
        if step.plan.desk_mode != DeskMode.FIXED:
            subscription.desk = None
        data: dict[str, Any] = {"from_plan": previous.pk, "to_plan": step.plan.pk, "when": "period_end"}
        log_event(subscription, "plan_changed", **data)
        audit.record(
            "memberships.subscription.plan_changed", subscription, venue_id=subscription.venue_id, **data
        )
        self.report.plan_changes += 1

    # One subscription, on paper

    def preview(self, subscription: Subscription) -> list[str]:
        steps = plan_steps(_cursor(subscription), limit=self.limit_for(subscription.venue))
        done: list[str] = []
        for step in steps:
            if step.kind == "bill":
                done.append(self._preview_bill(subscription, step))
            elif step.kind == "renew":
                self.report.renewed += 1
            elif step.kind == "activate":
                self.report.activated += 1
            elif step.kind == "switch":
                self.report.plan_changes += 1
            elif step.kind == "end":
                self.report.ended += 1
                done.append(_("would end"))
        return done or [_("up to date")]

    def _preview_bill(self, subscription: Subscription, step: _Step) -> str:
        if SubscriptionInvoice.objects.filter(
            subscription=subscription, period_start=step.period.start
        ).exists():
            self.report.already_invoiced += 1
            return _("already issued")
        net = invoicing.price_of(step.plan, step.period, self.steps(step.plan))
        amounts = invoicing.amounts_for(subscription.venue, step.plan, net)
        if amounts.gross_amount == 0:
            self.report.free_periods += 1
            return _("free period %(start)s–%(end)s") % _dates(step.period)
        self.report.invoices += 1
        self.report.totals_for(subscription.venue).add(
            amounts.net_amount, amounts.vat_amount, amounts.gross_amount
        )
        return _("would invoice %(start)s–%(end)s, %(gross)s €") % {
            **_dates(step.period),
            "gross": amounts.gross_amount,
        }


def _dates(period: periods.Period) -> dict[str, str]:
    return {"start": f"{period.start:%d/%m/%Y}", "end": f"{period.end:%d/%m/%Y}"}


def _issued(invoice: Invoice, period: periods.Period) -> str:
    dates = _dates(period)
    return f"{invoice.number} ({dates['start']}–{dates['end']}, {invoice.gross_amount} €)"


def _failed(report: RunReport, label: str, error: Exception) -> list[str]:
    """Report a subscription's failure; its outcome line."""
    if isinstance(error, DomainError):
        report.errors.append(f"{label}: {error.message} [{error.code}]")
        return [_("error: %(error)s") % {"error": error.message}]
    report.errors.append(f"{label}: {type(error).__name__}: {error}")
    return [_("error: %(error)s") % {"error": error}]


@dataclass
class _Planned:
    """A subscription of a batch, its steps and, for each bill step, its draft (None: a free period)."""

    subscription: Subscription
    label: str
    steps: list[_Step]
    drafts: list[Draft | None]


@dataclass
class _Batch:
    """What a batch did, counted in the run's report once its transaction has committed."""

    outcomes: dict[int, Outcome] = field(default_factory=dict)
    alone: list[int] = field(default_factory=list)  # left to be billed one by one, after the batch
    busy: int = 0
    renewed: int = 0
    free_periods: int = 0
    invoices: list[tuple[Venue, Invoice]] = field(default_factory=list)

    def count_in(self, report: RunReport) -> None:
        report.busy += self.busy
        report.renewed += self.renewed
        report.free_periods += self.free_periods
        for venue, invoice in self.invoices:
            report.invoices += 1
            report.invoice_ids.append(invoice.pk)
            report.totals_for(venue).add(invoice.net_amount, invoice.vat_amount, invoice.gross_amount)


def _batches(candidates: list[tuple[int, int]], size: int) -> Iterator[list[int]]:
    """Runs of at most `size` subscription ids of one venue, in the order given."""
    current: list[int] = []
    current_venue = None
    for venue_id, subscription_id in candidates:
        if current and (venue_id != current_venue or len(current) >= size):
            yield current
            current = []
        current_venue = venue_id
        current.append(subscription_id)
    if current:
        yield current


def lock_for_billing(subscription_ids: list[int]) -> dict[int, Subscription]:
    """The subscriptions, locked for this transaction, by id; those another transaction holds are left out
    (PostgreSQL skips locked rows; SQLite's IMMEDIATE transactions already run one at a time)."""
    rows = (
        Subscription.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("plan", "next_plan", "venue", "member", "payer_organisation")
        .filter(pk__in=subscription_ids)
        .order_by("pk")
    )
    return {subscription.pk: subscription for subscription in rows}


def _label(subscription: Subscription) -> str:
    return f"#{subscription.pk} {subscription.venue.slug} {subscription.plan.name}"


def run_billing(
    *,
    period: date,
    venue: Venue | None = None,
    dry_run: bool = False,
    progress: Progress | None = print,
    as_of: date | None = None,
    batch_size: int = BATCH_SIZE,
) -> RunReport:
    """Bill the month starting on `period` (its first day), for one venue or all. `as_of` is the last day
    periods may have started on (default: each venue's today). Subscriptions are billed by batches of one
    venue (`batch_size`), each its own transaction; a failure is reported and left for the next run, which
    retries it. Progress lines come once a batch has committed."""
    report = RunReport(month=periods.month_bounds(period), dry_run=dry_run)
    say: Progress = progress or (lambda _line: None)
    run = _Run(report, as_of=as_of, progress=say)
    candidates = run.candidates(venue)
    report.subscriptions = total = len(candidates)
    index = 0
    for batch in _batches(candidates, 1 if dry_run else max(1, batch_size)):
        outcomes = {batch[0]: _preview(run, batch[0])} if dry_run else run.bill_batch(batch)
        for subscription_id in batch:
            index += 1
            label, outcome = outcomes[subscription_id]
            say(f"[{index}/{total}] {label}: {'; '.join(str(x) for x in outcome)}")
    _run_sources(report, venue=venue, dry_run=dry_run, say=say)
    for line in report.summary():
        say(line)
    return report


def _preview(run: _Run, subscription_id: int) -> Outcome:
    label = f"#{subscription_id}"
    try:
        subscription = Subscription.objects.select_related("plan", "next_plan", "venue").get(
            pk=subscription_id
        )
        label = _label(subscription)
        return label, run.preview(subscription)
    except Exception as error:  # reported like a failure of the real run
        return label, _failed(run.report, label, error)


def _run_sources(report: RunReport, *, venue: Venue | None, dry_run: bool, say: Progress) -> None:
    """The other things to invoice for the month (bookings beyond credits), through their own idempotent
    `bill`."""
    month = report.month
    venue_ids = [venue.pk] if venue is not None else None
    for source in list(hooks.billing_sources):
        keys = list(source.pending(month.start, month.end, venue_ids))
        if dry_run:
            report.sources[source.name] = len(keys)
            say(_("%(source)s: %(count)s to bill") % {"source": source.name, "count": len(keys)})
            continue
        billed = 0
        for index, key in enumerate(keys, start=1):
            try:
                result = source.bill(key, month.start, month.end)
            except Exception as error:  # reported, retried by the next run like a subscription
                report.errors.append(f"{source.name} {key}: {type(error).__name__}: {error}")
                say(f"[{index}/{len(keys)}] {source.name} {key}: " + _("error: %(error)s") % {"error": error})
                continue
            billed += 1
            if isinstance(result, Invoice) and result.is_issued:
                report.totals_for(result.venue).add(result.net_amount, result.vat_amount, result.gross_amount)
                report.invoice_ids.append(result.pk)
            number = getattr(result, "number", None) or ""
            say(f"[{index}/{len(keys)}] {source.name} {key}: {number}")
        report.sources[source.name] = billed
