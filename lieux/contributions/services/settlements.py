"""Settling network credit: the budget pays a venue for the credit it issued there.

A contributor paid in credit books room time at a venue of their choice; the budget keeps the grant's cash
and owes that venue the credit's value (account `credit_issued`, per venue). A manager of the budget
records that the budget paid the venue, against the venue's invoice, part or all of what is still to
settle there.

Policies, the same as for payouts in euros (services.payouts):

- **Nobody is paid before the money is there.** The settlement takes the budget's row lock and reads the
  cash under it; one that would take the cash below zero is refused with the amount available. Two
  managers settling at the same instant queue on that lock (a threaded test shows the race without it).
- **A venue is paid for the credit issued there, never more.** What is still to settle is read under the
  same lock.
- **The venue's invoice reference is the idempotency key**: recording the same invoice of the same venue
  again returns the first settlement; the same reference with another amount or day is refused.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from lieux.contributions.errors_budgets import BeyondCreditToSettle, NotEnoughCash
from lieux.contributions.models import Account, Budget, CreditSettlement, TransactionKind
from lieux.contributions.selectors.budgets import budget_today, cash_available, credit_to_settle
from lieux.contributions.services.budgets import ensure_treasurer, lock_budget, parse_amount
from lieux.contributions.services.ledger import Leg, post
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import Conflict, ValidationError
from lieux.venues.models import Venue

MAX_REFERENCE = 60


def _reference(text: str) -> str:
    reference = (text or "").strip()
    if not reference or len(reference) > MAX_REFERENCE:
        raise ValidationError(
            _("Give the number of the venue's invoice (%(n)s characters at most).") % {"n": MAX_REFERENCE},
            code="invoice_reference_required",
            field="reference",
        )
    return reference


def _day(budget: Budget, settled_on: Any) -> date:
    if not isinstance(settled_on, date):
        raise ValidationError(_("Give the day it was paid."), code="invalid_date", field="settled_on")
    if settled_on > budget_today(budget):
        raise ValidationError(
            _("The day it was paid cannot be in the future."), code="date_in_future", field="settled_on"
        )
    return settled_on


def settlement_key(budget: Budget, venue: Venue, reference: str) -> str:
    return f"settlement:{budget.pk}:{venue.pk}:{reference}"


def _retried(existing: CreditSettlement, amount: Decimal, settled_on: date) -> CreditSettlement:
    """The settlement already recorded for this invoice, when the request is the same one again."""
    if (existing.amount, existing.settled_on) != (amount, settled_on):
        raise Conflict(
            _("The invoice %(reference)s of this venue is already settled.")
            % {"reference": existing.reference},
            code="invoice_already_settled",
            field="reference",
        )
    return existing


def settle_credit(
    *,
    budget: Budget,
    venue: Venue,
    amount: Decimal | str,
    reference: str,
    settled_on: date,
    actor: Any = None,
) -> CreditSettlement:
    """Record that the budget paid `venue`, against its invoice `reference`, `amount` euros of the credit
    issued there and not settled yet. Refused when the cash is not there."""
    ensure_treasurer(actor, budget)
    value = parse_amount(amount, "amount")
    reference = _reference(reference)
    day = _day(budget, settled_on)
    key = settlement_key(budget, venue, reference)

    def write() -> CreditSettlement:
        locked = lock_budget(budget)
        existing = CreditSettlement.objects.filter(key=key).first()
        if existing is not None:
            return _retried(existing, value, day)
        to_settle = credit_to_settle(locked, venue.pk)
        if value > to_settle:
            raise BeyondCreditToSettle(to_settle)
        available = cash_available(locked)
        if value > available:
            raise NotEnoughCash(value, available)
        settlement = CreditSettlement.objects.create(
            budget=locked,
            venue=venue,
            amount=value,
            reference=reference,
            settled_on=day,
            key=key,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        post(
            budget=locked,
            key=key,
            kind=TransactionKind.CREDIT_SETTLEMENT,
            legs=[Leg(Account.CREDIT_ISSUED, value, venue_id=venue.pk), Leg(Account.CASH, -value)],
            memo=f"{venue.name} {reference}",
            actor=actor,
        )
        audit.record(
            "contributions.credit.settled",
            settlement,
            actor=actor,
            venue_id=locked.venue_id,
            budget=locked.pk,
            venue=venue.pk,
            amount=str(value),
            reference=reference,
            settled_on=day.isoformat(),
        )
        return settlement

    return atomic_with_retry(write)
