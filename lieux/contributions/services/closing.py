"""Closing a budget: the collective settles its period and the budget takes nothing new.

A budget whose validated requests fit its envelope closes as it is. One in deficit closes by one of three
methods the collective chooses:

- **pro rata**: every validated request not paid yet is reduced in the same proportion so that what is
  granted equals the envelope, to the cent (largest remainder: no cent is lost or invented); a REDUCTION
  per person gives the envelope back what they no longer receive. Impossible when what was already paid
  passes the envelope: carry over or top up instead.
- **carry over**: the excess becomes a negative funding source of the next budget (which starts with that
  much less) and a positive « carried over » source here that makes the envelope whole; the cash for it
  comes from the next budget (services.funding.record_receipt).
- **top up**: a new funding source of at least the deficit, named by the collective.

Requests still awaiting review must be validated or refused first: closing would leave them nowhere. The
whole closing is one transaction under the budget's lock (and the next budget's, for a carry-over, taken
in id order); closing a closed budget again with the same method returns it unchanged.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lieux.contributions.models import (
    Account,
    Budget,
    BudgetStatus,
    Closing,
    Contribution,
    ContributionStatus,
    SourceKind,
    TransactionKind,
)
from lieux.contributions.rules.closing import reduce_pro_rata
from lieux.contributions.selectors.budgets import budget_figures, budget_today
from lieux.contributions.services.budgets import (
    ensure_budget_open,
    ensure_treasurer,
    lock_budget,
    parse_amount,
    refresh_budget_status,
)
from lieux.contributions.services.funding import add_source_locked
from lieux.contributions.services.ledger import Leg, post
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import Conflict, ValidationError
from lieux.core.money import ZERO
from lieux.core.time import now


@dataclass(frozen=True)
class TopUp:
    """The funding source that makes a budget in deficit whole."""

    name: str
    amount: Decimal | str
    committed_on: date
    kind: str = SourceKind.OTHER
    funder: str = ""


def _ensure_nothing_pending(budget: Budget) -> None:
    waiting = Contribution.objects.filter(
        budget=budget,
        status__in=[ContributionStatus.SUBMITTED, ContributionStatus.AWAITING_CONFIRMATION],
    ).count()
    if waiting:
        raise Conflict(
            ngettext(
                "%(n)s request still awaits review or confirmation: validate or refuse it first.",
                "%(n)s requests still await review or confirmation: validate or refuse them first.",
                waiting,
            )
            % {"n": waiting},
            code="requests_pending",
            pending=waiting,
        )


def _pro_rata(budget: Budget, deficit: Decimal, actor: Any) -> dict[str, Any]:
    unpaid = list(
        Contribution.objects.select_for_update(of=("self",))
        .filter(budget=budget, status=ContributionStatus.VALIDATED, payout__isnull=True)
        .filter(~Q(amount_granted=ZERO))
        .order_by("pk")
    )
    granted = {c.pk: c.amount_granted or ZERO for c in unpaid}
    total = sum(granted.values(), ZERO)
    if deficit > total:
        raise ValidationError(
            _(
                "What was already paid passes the envelope: only %(unpaid)s € remain unpaid for a deficit "
                "of %(deficit)s €. Carry the deficit over or top the envelope up."
            )
            % {"unpaid": total, "deficit": deficit},
            code="pro_rata_impossible",
        )
    reduced = reduce_pro_rata(granted, total - deficit)
    per_person: dict[int, Decimal] = {}
    events = []
    changed = []
    for contribution in unpaid:
        cut = granted[contribution.pk] - reduced[contribution.pk]
        if not cut:
            continue
        per_person[contribution.contributor_id] = per_person.get(contribution.contributor_id, ZERO) + cut
        contribution.amount_granted = reduced[contribution.pk]
        changed.append(contribution)
        events.append(
            audit.entry(
                "contributions.contribution.reduced",
                contribution,
                actor=actor,
                venue_id=budget.venue_id,
                before=str(granted[contribution.pk]),
                after=str(reduced[contribution.pk]),
            )
        )
    Contribution.objects.bulk_update(changed, ["amount_granted"], batch_size=500)
    audit.record_all(events)
    for person_id, cut in sorted(per_person.items()):
        post(
            budget=budget,
            key=f"reduction:{budget.pk}:{person_id}",
            kind=TransactionKind.REDUCTION,
            legs=[Leg(Account.OWED, cut, person_id=person_id), Leg(Account.ENVELOPE, -cut)],
            memo=_("Pro-rata closing"),
            actor=actor,
        )
    ratio = (total - deficit) / total if total else ZERO
    return {"reduced": str(deficit), "requests": len(changed), "kept_ratio": str(round(ratio, 6))}


def _carry_over(budget: Budget, next_budget: Budget, deficit: Decimal, actor: Any) -> dict[str, Any]:
    today = budget_today(budget)
    add_source_locked(
        budget,
        name=_("Deficit carried over to %(name)s") % {"name": next_budget.name},
        kind=SourceKind.CARRIED_OVER,
        amount=deficit,
        committed_on=today,
        funder=next_budget.name,
        actor=actor,
    )
    add_source_locked(
        next_budget,
        name=_("Deficit carried over from %(name)s") % {"name": budget.name},
        kind=SourceKind.CARRIED_OVER,
        amount=-deficit,
        committed_on=today,
        funder=budget.name,
        actor=actor,
    )
    budget.carried_to = next_budget
    refresh_budget_status(next_budget, actor=actor)
    return {"carried_over": str(deficit), "to": next_budget.pk}


def _top_up(budget: Budget, top_up: TopUp, deficit: Decimal, actor: Any) -> dict[str, Any]:
    amount = parse_amount(top_up.amount, "amount")
    if amount < deficit:
        raise ValidationError(
            _("The top-up must cover the deficit of %(deficit)s €.") % {"deficit": deficit},
            code="top_up_too_small",
            deficit=str(deficit),
        )
    name = top_up.name.strip()
    if not name:
        raise ValidationError(_("A funding source needs a name."), code="name_required", field="name")
    if top_up.kind not in SourceKind.values or top_up.kind == SourceKind.CARRIED_OVER:
        raise ValidationError(_("Not a valid choice."), code="invalid_kind", field="kind")
    if budget.sources.filter(name=name).exists():
        raise Conflict(
            _("This budget already has a source named %(name)s.") % {"name": name},
            code="source_name_taken",
            field="name",
        )
    source = add_source_locked(
        budget,
        name=name,
        kind=top_up.kind,
        amount=amount,
        committed_on=top_up.committed_on,
        funder=top_up.funder.strip(),
        actor=actor,
    )
    return {"topped_up": str(amount), "source": source.pk}


def close_budget(
    *,
    budget: Budget,
    method: str | None = None,
    next_budget: Budget | None = None,
    top_up: TopUp | None = None,
    actor: Any = None,
) -> Budget:
    """Close `budget`. `method` (pro_rata, carry_over or top_up) is required when it is in deficit and
    ignored otherwise; carry_over needs `next_budget`, top_up needs `top_up`."""
    ensure_treasurer(actor, budget)
    if method is not None and method not in Closing.values:
        raise ValidationError(_("Not a valid choice."), code="invalid_method", field="method")
    if method == Closing.CARRY_OVER:
        if next_budget is None:
            raise ValidationError(
                _("Say which budget takes the deficit over."),
                code="next_budget_required",
                field="next_budget",
            )
        if next_budget.pk == budget.pk or next_budget.network_id != budget.network_id:
            raise ValidationError(
                _("The deficit goes to another budget of the same network."),
                code="invalid_next_budget",
                field="next_budget",
            )
        ensure_treasurer(actor, next_budget)
    if method == Closing.TOP_UP and top_up is None:
        raise ValidationError(_("Describe the top-up source."), code="top_up_required", field="top_up")

    def write() -> Budget:
        if method == Closing.CARRY_OVER and next_budget is not None:
            first, second = sorted([budget.pk, next_budget.pk])
            locked = {first: lock_budget(first), second: lock_budget(second)}
            this, target = locked[budget.pk], locked[next_budget.pk]
            ensure_budget_open(target)
        else:
            this, target = lock_budget(budget), None
        if this.status == BudgetStatus.CLOSED:
            if (this.closed_with or None) in (method, None):
                return this  # already closed this way
            raise Conflict(_("This budget is closed."), code="budget_closed")
        ensure_budget_open(this)
        _ensure_nothing_pending(this)
        figures = budget_figures(this)
        deficit = figures.deficit
        details: dict[str, Any] = {"deficit": str(deficit)}
        closed_with = ""
        if deficit > 0:
            if method is None:
                raise ValidationError(
                    _("The budget is in deficit by %(deficit)s €: choose how to close it.")
                    % {"deficit": deficit},
                    code="method_required",
                    deficit=str(deficit),
                )
            closed_with = method
            if method == Closing.PRO_RATA:
                details |= _pro_rata(this, deficit, actor)
            elif method == Closing.CARRY_OVER:
                assert target is not None
                details |= _carry_over(this, target, deficit, actor)
            else:
                assert top_up is not None
                details |= _top_up(this, top_up, deficit, actor)
        this.status = BudgetStatus.CLOSED
        this.closed_with = closed_with
        this.closed_at = now()
        this.save(update_fields=["status", "closed_with", "closed_at", "carried_to"])
        after = budget_figures(this)
        if after.deficit:
            raise AssertionError(f"budget {this.pk} closed with a deficit of {after.deficit}")
        audit.record(
            "contributions.budget.closed",
            this,
            actor=actor,
            venue_id=this.venue_id,
            method=closed_with or None,
            committed=str(after.committed),
            granted=str(after.granted),
            **details,
        )
        return this

    return atomic_with_retry(write)
