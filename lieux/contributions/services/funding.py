"""Funding a budget: the sources that promise money, and the cash they actually pay.

- A source commits an amount (posting FUNDING: receivable +A / envelope −A). Adding the same source again
  (same name, amount, kind and day) returns the first one: a double submission adds no money; the same name
  with other figures is refused.
- A receipt records cash that reached the budget (RECEIPT: cash +R / receivable −R). A source never pays
  more than it committed: a funder who pays more than promised is unusual enough that the surplus must be
  recorded as a new source, by a person, on purpose. With a bank reference, a receipt is recorded once
  (a retry returns it); give one whenever the bank does.
- The cash of a deficit carried over comes from the budget that took it over: a receipt on the
  « carried over » source of a closed budget moves cash from that next budget, which must hold it (its
  cash −R / receivable +R), and the next budget's negative source itself takes no receipt.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils.translation import gettext as _

from lieux.contributions.errors_budgets import NotEnoughCash, ReceiptExceedsCommitment
from lieux.contributions.models import (
    Account,
    Budget,
    FundingReceipt,
    FundingSource,
    SourceKind,
    TransactionKind,
)
from lieux.contributions.selectors.budgets import cash_available
from lieux.contributions.services.budgets import (
    ensure_budget_open,
    ensure_treasurer,
    lock_budget,
    parse_amount,
    refresh_budget_status,
)
from lieux.contributions.services.ledger import Leg, post
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import Conflict, ValidationError
from lieux.core.money import ZERO
from lieux.venues.models import Venue


def funding_key(source: FundingSource) -> str:
    return f"funding:{source.pk}"


def add_source_locked(
    budget: Budget,
    *,
    name: str,
    kind: str,
    amount: Decimal,
    committed_on: date,
    funder: str = "",
    venue: Venue | None = None,
    actor: Any = None,
) -> FundingSource:
    """Create a source and post its commitment; the caller holds the budget's lock and has checked the
    input. Also used by closing for carried-over and top-up sources."""
    source = FundingSource.objects.create(
        budget=budget,
        name=name,
        kind=kind,
        funder=funder,
        amount=amount,
        committed_on=committed_on,
        venue=venue,
    )
    post(
        budget=budget,
        key=funding_key(source),
        kind=TransactionKind.FUNDING,
        legs=[Leg(Account.RECEIVABLE, amount), Leg(Account.ENVELOPE, -amount)],
        memo=name,
        actor=actor,
    )
    audit.record(
        "contributions.funding.added",
        source,
        actor=actor,
        venue_id=budget.venue_id,
        budget=budget.pk,
        kind=kind,
        funder=funder,
        amount=str(amount),
        committed_on=committed_on.isoformat(),
    )
    return source


def add_funding_source(
    *,
    budget: Budget,
    name: str,
    kind: str,
    amount: Decimal | str,
    committed_on: date,
    funder: str = "",
    venue: Venue | None = None,
    actor: Any = None,
) -> FundingSource:
    """Commit money to an open budget: a grant, a share of membership income, a venue's contribution. A
    budget in deficit that the new source makes whole is open again."""
    ensure_treasurer(actor, budget)
    name = name.strip()
    if not name:
        raise ValidationError(_("A funding source needs a name."), code="name_required", field="name")
    allowed = [k for k in SourceKind.values if k != SourceKind.CARRIED_OVER]
    if kind not in allowed:
        raise ValidationError(_("Not a valid choice."), code="invalid_kind", field="kind")
    value = parse_amount(amount, "amount")
    if not isinstance(committed_on, date):
        raise ValidationError(_("Give the day it was committed."), code="invalid_date", field="committed_on")
    if venue is not None and venue.network_id != budget.network_id:
        raise ValidationError(
            _("This venue belongs to another network."), code="venue_elsewhere", field="venue"
        )

    def write() -> FundingSource:
        locked = lock_budget(budget)
        ensure_budget_open(locked)
        existing = FundingSource.objects.filter(budget=locked, name=name).first()
        if existing is not None:
            if (existing.amount, existing.kind, existing.committed_on) == (value, kind, committed_on):
                return existing  # the same source submitted twice
            raise Conflict(
                _("This budget already has a source named %(name)s.") % {"name": name},
                code="source_name_taken",
                field="name",
            )
        source = add_source_locked(
            locked,
            name=name,
            kind=kind,
            amount=value,
            committed_on=committed_on,
            funder=funder.strip(),
            venue=venue,
            actor=actor,
        )
        refresh_budget_status(locked, actor=actor)
        return source

    return atomic_with_retry(write)


def received_so_far(source: FundingSource) -> Decimal:
    return source.receipts.aggregate(total=Sum("amount"))["total"] or ZERO


def record_receipt(
    *,
    source: FundingSource,
    amount: Decimal | str,
    received_on: date,
    reference: str = "",
    actor: Any = None,
) -> FundingReceipt:
    """Record cash a source paid into the budget's account. Allowed on a closed budget too: the last
    instalment of a grant often arrives after the period."""
    budget = source.budget
    ensure_treasurer(actor, budget)
    value = parse_amount(amount, "amount")
    reference = reference.strip()[:120]
    if not isinstance(received_on, date):
        raise ValidationError(_("Give the day it was received."), code="invalid_date", field="received_on")
    if source.amount < 0:
        raise ValidationError(
            _("A deficit carried over receives no cash: record it on the source of the budget it came from."),
            code="negative_source",
        )

    def write() -> FundingReceipt:
        transfer_from = None
        # Set once, by the closing that created this source: safe to read before locking.
        carried_to_id = Budget.objects.filter(pk=budget.pk).values_list("carried_to_id", flat=True).get()
        if source.kind == SourceKind.CARRIED_OVER and carried_to_id is not None:
            # Lock both budgets, always in id order, so two transfers never wait on each other.
            first, second = sorted([budget.pk, carried_to_id])
            locked = {first: lock_budget(first), second: lock_budget(second)}
            transfer_from = locked[carried_to_id]
            this = locked[budget.pk]
        else:
            this = lock_budget(budget)
        if reference:
            existing = FundingReceipt.objects.filter(source=source, reference=reference).first()
            if existing is not None:
                if (existing.amount, existing.received_on) == (value, received_on):
                    return existing
                raise Conflict(
                    _("A receipt with the reference %(reference)s is already recorded for this source.")
                    % {"reference": reference},
                    code="receipt_reference_taken",
                    field="reference",
                )
        left = source.amount - received_so_far(source)
        if value > left:
            raise ReceiptExceedsCommitment(left)
        if transfer_from is not None:
            available = cash_available(transfer_from)
            if value > available:
                raise NotEnoughCash(value, available)
        receipt = FundingReceipt.objects.create(
            source=source, amount=value, received_on=received_on, reference=reference
        )
        post(
            budget=this,
            key=f"receipt:{receipt.pk}",
            kind=TransactionKind.RECEIPT,
            legs=[Leg(Account.CASH, value), Leg(Account.RECEIVABLE, -value)],
            memo=f"{source.name} {reference}".strip(),
            actor=actor,
        )
        if transfer_from is not None:
            post(
                budget=transfer_from,
                key=f"receipt:{receipt.pk}:carried",
                kind=TransactionKind.RECEIPT,
                legs=[Leg(Account.CASH, -value), Leg(Account.RECEIVABLE, value)],
                memo=_("Cash for the deficit carried over from %(name)s") % {"name": this.name},
                actor=actor,
            )
        audit.record(
            "contributions.funding.received",
            receipt,
            actor=actor,
            venue_id=this.venue_id,
            budget=this.pk,
            source=source.pk,
            amount=str(value),
            received_on=received_on.isoformat(),
            reference=reference,
            from_budget=transfer_from.pk if transfer_from is not None else None,
        )
        return receipt

    return atomic_with_retry(write)
