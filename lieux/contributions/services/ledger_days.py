"""Keeping LedgerDay, the per-day sums of a budget's ledger, in step with its entries.

`add_posting` runs inside services.ledger.post, in the posting's transaction: one INSERT … ON CONFLICT DO
UPDATE (core.db.add_to_totals) adds the posting's amounts to its day's rows. Legs are summed per account
first, since one statement may not update the same row twice. Writers that hold the budget's lock (all the
use cases that post) never contend on these rows; one that did not would only wait on a row lock.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import TruncDate

from lieux.contributions.models import Budget, LedgerDay, LedgerEntry
from lieux.contributions.selectors.budgets import budget_tz
from lieux.core.db import add_to_totals


def day_of(budget: Budget, at: datetime) -> date:
    return at.astimezone(budget_tz(budget)).date()


def add_posting(*, budget: Budget, kind: str, at: datetime, legs: Iterable[tuple[str, Decimal]]) -> None:
    """Add one posting's (account, amount) legs to the budget's day."""
    per_account: dict[str, Decimal] = defaultdict(Decimal)
    for account, amount in legs:
        per_account[account] += amount
    day = day_of(budget, at)
    add_to_totals(
        LedgerDay,
        key=("budget_id", "account", "kind", "day"),
        added=("amount",),
        rows=[(budget.pk, account, kind, day, total) for account, total in per_account.items() if total],
    )


def days_from_entries(budget: Budget) -> dict[tuple[str, str, date], Decimal]:
    """(account, kind, day) → amount, summed from the entries themselves."""
    rows = (
        LedgerEntry.objects.filter(budget=budget)
        .annotate(day=TruncDate("transaction__at", tzinfo=budget_tz(budget)))
        .values_list("account", "transaction__kind", "day")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {(account, kind, day): total for account, kind, day, total in rows if total}


def rebuild_ledger_days(budget: Budget) -> int:
    """Recompute the budget's day rows from its entries (after a bulk load or a repair); the caller holds
    a transaction. Returns how many rows there are."""
    LedgerDay.objects.filter(budget=budget).delete()
    made = LedgerDay.objects.bulk_create(
        LedgerDay(budget=budget, account=account, kind=kind, day=day, amount=amount)
        for (account, kind, day), amount in days_from_entries(budget).items()
    )
    return len(made)
