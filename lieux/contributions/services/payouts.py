"""Payouts (rétributions): paying a person's validated requests in euros or in network credit.

Policies:

- **Nobody is paid before the money is there.** A payout in euros takes the budget's row lock, reads the
  cash (received − paid in euros) under it and is refused when it would go below zero; two treasurers
  paying at the same instant queue on that lock (a threaded test shows the race without it).
- **Euros** are paid by a manager against the invoice of the person or of the structure they bill through
  (their ContributorProfile's `structure_name`). The invoice reference is the idempotency key: paying the
  same invoice of the same person again returns the first payout.
- **Credit** is chosen by the contributor only. The euros are converted at the collective's rate and
  rounded *down* to a quarter of a credit (the credits' own step); the remainder stays owed to the person
  and is part of their next payout of « everything owed », in euros or in credit. No cash moves: the credit
  is owed to the venue that honours it (account `credit_issued`), which the budget pays against the venue's
  invoice (services.settlements). The lot is granted through memberships with the payout's key as its
  source key, so a retry grants nothing twice.
- **What is paid.** Either the requests named (validated, unpaid, this person's, this budget's), for the sum
  of what was granted, or everything owed: all validated unpaid requests plus any remainder of an earlier
  conversion.
"""

import hashlib
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.utils.translation import gettext as _

from lieux.accounts.models import User
from lieux.contributions.errors_budgets import AmountBelowOneCredit, NotEnoughCash, NothingToPay
from lieux.contributions.models import (
    Account,
    Budget,
    Contribution,
    ContributionStatus,
    ContributorProfile,
    CreditConversion,
    Payout,
    PayoutMethod,
    TransactionKind,
)
from lieux.contributions.selectors.budgets import cash_available, person_owed
from lieux.contributions.services.budgets import ensure_treasurer, lock_budget
from lieux.contributions.services.ledger import Leg, post
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import Conflict, Forbidden, ValidationError
from lieux.core.money import ZERO, cents
from lieux.memberships.rules.credits import CREDIT_STEP, add_months
from lieux.memberships.services.credits import grant_credits, local_today


def credit_quantity(amount: Decimal, euros_per_credit: Decimal, step: Decimal = CREDIT_STEP) -> Decimal:
    """Credits `amount` euros buy, rounded down to `step`."""
    if amount <= 0 or euros_per_credit <= 0:
        return ZERO
    steps = (amount / euros_per_credit / step).to_integral_value(rounding=ROUND_FLOOR)
    return (steps * step).quantize(Decimal("0.01"))


def credit_value(quantity: Decimal, euros_per_credit: Decimal) -> Decimal:
    """The euros `quantity` credits stand for; never more than the amount they were bought with, since
    that amount is in cents and at least the exact product."""
    return cents(quantity * euros_per_credit)


def _payable(
    budget: Budget, person: User, contributions: Sequence[Contribution] | None
) -> list[Contribution]:
    """The person's validated, unpaid requests on this budget, locked; the ones named, or all of them."""
    rows = Contribution.objects.select_for_update(of=("self",)).filter(
        budget=budget, contributor=person, status=ContributionStatus.VALIDATED, payout__isnull=True
    )
    if contributions is None:
        return list(rows.order_by("pk"))
    wanted = {c.pk for c in contributions}
    found = list(rows.filter(pk__in=wanted).order_by("pk"))
    missing = sorted(wanted - {c.pk for c in found})
    if missing:
        raise ValidationError(
            _("These requests are not validated unpaid requests of this person on this budget: %(ids)s.")
            % {"ids": ", ".join(map(str, missing))},
            code="not_payable",
            contributions=missing,
        )
    if not found:
        raise NothingToPay()
    return found


def _amount_due(budget: Budget, person: User, payable: list[Contribution], everything: bool) -> Decimal:
    owed = person_owed(budget, person.pk)
    amount = owed if everything else sum((c.amount_granted or ZERO for c in payable), ZERO)
    if amount > owed:
        # Only a ledger out of step with its requests could ask this: refuse rather than overpay.
        raise Conflict(_("The ledger owes this person less than these requests."), code="ledger_mismatch")
    if amount <= 0:
        raise NothingToPay()
    return amount


def _settle(payout: Payout, payable: list[Contribution], *, kind: str, legs: list[Leg], actor: Any) -> Payout:
    Contribution.objects.filter(pk__in=[c.pk for c in payable]).update(
        status=ContributionStatus.PAID, payout=payout
    )
    post(
        budget=payout.budget,
        key=payout.key,
        kind=kind,  # type: ignore[arg-type]
        legs=legs,
        memo=payout.paid_to or str(payout.person_id),
        actor=actor,
    )
    venue_id = payout.budget.venue_id
    audit.record(
        "contributions.payout.paid",
        payout,
        actor=actor,
        venue_id=venue_id,
        budget=payout.budget_id,
        person=payout.person_id,
        method=payout.method,
        amount=str(payout.amount),
        contributions=[c.pk for c in payable],
        invoice_reference=payout.invoice_reference,
        credit_quantity=str(payout.credit_quantity) if payout.credit_quantity is not None else None,
    )
    audit.record_all(
        [
            audit.entry(
                "contributions.contribution.paid",
                c,
                actor=actor,
                venue_id=venue_id,
                payout=payout.pk,
                method=payout.method,
            )
            for c in payable
        ]
    )
    return payout


def pay_in_euros(
    *,
    budget: Budget,
    person: User,
    invoice_reference: str,
    paid_on: date,
    contributions: Sequence[Contribution] | None = None,
    to_structure: bool = False,
    actor: Any = None,
) -> Payout:
    """Record that the budget paid `person` in euros, against their invoice (or their structure's), for
    the requests named or everything owed. Refused when the cash received is not there."""
    ensure_treasurer(actor, budget)
    invoice_reference = invoice_reference.strip()
    if not invoice_reference or len(invoice_reference) > 60:
        raise ValidationError(
            _("Give the number of the invoice paid (60 characters at most)."),
            code="invoice_reference_required",
            field="invoice_reference",
        )
    if not isinstance(paid_on, date):
        raise ValidationError(_("Give the day it was paid."), code="invalid_date", field="paid_on")
    if to_structure:
        profile = ContributorProfile.objects.filter(person=person).first()
        paid_to = profile.structure_name.strip() if profile is not None else ""
        if not paid_to:
            raise ValidationError(
                _("This person has not named a structure to be paid through."),
                code="no_structure",
                field="to_structure",
            )
    else:
        paid_to = person.get_full_name() or person.email
    key = f"payout:euros:{budget.pk}:{person.pk}:{invoice_reference}"

    def write() -> Payout:
        locked = lock_budget(budget)
        existing = Payout.objects.filter(key=key).first()
        if existing is not None:
            named = {c.pk for c in contributions or []}
            if named - set(existing.contributions.values_list("pk", flat=True)):
                raise Conflict(
                    _("The invoice %(reference)s of this person is already paid.")
                    % {"reference": invoice_reference},
                    code="invoice_already_paid",
                )
            return existing  # a retry of the same payment
        payable = _payable(locked, person, contributions)
        amount = _amount_due(locked, person, payable, contributions is None)
        available = cash_available(locked)
        if amount > available:
            raise NotEnoughCash(amount, available)
        payout = Payout.objects.create(
            budget=locked,
            person=person,
            method=PayoutMethod.EUROS,
            amount=amount,
            paid_on=paid_on,
            invoice_reference=invoice_reference,
            paid_to=paid_to[:160],
            key=key,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        return _settle(
            payout,
            payable,
            kind=TransactionKind.PAYOUT_EUROS,
            legs=[Leg(Account.OWED, amount, person_id=person.pk), Leg(Account.CASH, -amount)],
            actor=actor,
        )

    return atomic_with_retry(write)


def _credit_key(budget: Budget, person: User, payable: list[Contribution], request_key: str | None) -> str:
    prefix = f"payout:credit:{budget.pk}:{person.pk}:"
    if request_key:
        return prefix + request_key.strip()[:60]
    if payable:
        ids = ",".join(str(c.pk) for c in payable)
        return prefix + hashlib.sha256(ids.encode()).hexdigest()[:24]
    # Only a remainder is owed: the n-th such payout of the person.
    count = Payout.objects.filter(budget=budget, person=person, contributions__isnull=True).count()
    return f"{prefix}balance:{count}"


def pay_in_credit(
    *,
    budget: Budget,
    person: User,
    conversion: CreditConversion,
    contributions: Sequence[Contribution] | None = None,
    request_key: str | None = None,
    actor: Any = None,
) -> Payout:
    """Convert what `person` is owed into booking credit at the venue of `conversion`, at the contributor's
    own request. `request_key` (optional) makes a client's retry idempotent."""
    if actor is not None and getattr(actor, "pk", None) != person.pk:
        raise Forbidden(
            _("Only the contributor may choose to be paid in credit."), code="contributor_chooses_credit"
        )
    if conversion.network_id != budget.network_id or not conversion.is_active:
        raise ValidationError(
            _("This credit is not offered by the budget's network."), code="conversion_unavailable"
        )

    def write() -> Payout:
        locked = lock_budget(budget)
        if request_key:
            existing = Payout.objects.filter(key=_credit_key(locked, person, [], request_key)).first()
            if existing is not None:
                return existing
        payable = _payable(locked, person, contributions)
        key = _credit_key(locked, person, payable, request_key)
        existing = Payout.objects.filter(key=key).first()
        if existing is not None:
            return existing
        total = _amount_due(locked, person, payable, contributions is None)
        rate = conversion.euros_per_credit
        quantity = credit_quantity(total, rate)
        if quantity <= 0:
            raise AmountBelowOneCredit(credit_value(CREDIT_STEP, rate))
        value = credit_value(quantity, rate)
        credit_type = conversion.credit_type
        venue = credit_type.venue
        today = local_today(venue)
        payout = Payout.objects.create(
            budget=locked,
            person=person,
            method=PayoutMethod.CREDIT,
            amount=value,
            paid_on=today,
            paid_to=(person.get_full_name() or person.email)[:160],
            conversion=conversion,
            credit_quantity=quantity,
            key=key,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        payout.credit_lot = grant_credits(
            person=person,
            venue=venue,
            credit_type=credit_type,
            quantity=quantity,
            expires_on=add_months(today, conversion.validity_months),
            source_key=key,
            note=_("Payout from the budget %(name)s") % {"name": locked.name},
            granted_on=today,
            actor=actor,
        )
        payout.save(update_fields=["credit_lot"])
        return _settle(
            payout,
            payable,
            kind=TransactionKind.PAYOUT_CREDIT,
            legs=[
                Leg(Account.OWED, value, person_id=person.pk),
                Leg(Account.CREDIT_ISSUED, -value, venue_id=venue.pk),
            ],
            actor=actor,
        )

    return atomic_with_retry(write)
