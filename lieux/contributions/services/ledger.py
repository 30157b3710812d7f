"""Posting to a budget's double-entry ledger: the one way money moves in contributions.

Every use case that moves money (funding, receipt, validation, payout, reduction) builds its legs and
posts them here, inside its own transaction, so the ledger and the rows it explains commit together.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from lieux.contributions.models import Account, Budget, LedgerEntry, LedgerTransaction, TransactionKind
from lieux.contributions.services.ledger_days import add_posting

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Leg:
    """One line of a posting: positive debits, negative credits."""

    account: Account
    amount: Decimal
    person_id: int | None = None
    venue_id: int | None = None


class UnbalancedPosting(ValueError):
    """A programming error, never user input: the legs of a posting must sum to zero."""


def check_legs(legs: list[Leg]) -> None:
    if not legs:
        raise UnbalancedPosting("a posting needs legs")
    for leg in legs:
        if leg.amount == 0 or leg.amount != leg.amount.quantize(CENT):
            raise UnbalancedPosting(f"leg {leg} is zero or not in cents")
    if sum((leg.amount for leg in legs), Decimal(0)) != 0:
        raise UnbalancedPosting(f"legs do not balance: {legs}")


def post(
    *,
    budget: Budget,
    key: str,
    kind: TransactionKind,
    legs: list[Leg],
    memo: str = "",
    actor: Any = None,
) -> LedgerTransaction:
    """Write one balanced transaction under `key`, or return the one already written under it: a retried
    use case posts nothing twice."""
    check_legs(legs)
    existing = LedgerTransaction.objects.filter(key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            posted = LedgerTransaction.objects.create(
                budget=budget,
                key=key,
                kind=kind,
                memo=memo[:200],
                actor=actor if getattr(actor, "is_authenticated", False) else None,
            )
            LedgerEntry.objects.bulk_create(
                LedgerEntry(
                    transaction=posted,
                    budget=budget,
                    account=leg.account,
                    amount=leg.amount,
                    person_id=leg.person_id,
                    venue_id=leg.venue_id,
                )
                for leg in legs
            )
            add_posting(
                budget=budget,
                kind=kind,
                at=posted.at,
                legs=[(leg.account, leg.amount, leg.person_id) for leg in legs],
            )
    except IntegrityError:
        # A concurrent retry of the same use case got there first: its posting stands.
        return LedgerTransaction.objects.get(key=key)
    return posted
