"""Keeping the sums of a budget's ledger in step with its entries: LedgerDay (per day, account and kind)
and PersonOwed (what the budget owes each person).

`add_posting` runs inside services.ledger.post, in the posting's transaction: one INSERT … ON CONFLICT DO
UPDATE (core.db.add_to_totals) per table adds the posting's amounts to its rows. Legs are summed per
account (or person) first, since one statement may not update the same row twice. Writers that hold the
budget's lock (all the use cases that post) never contend on these rows; one that did not would only wait
on a row lock.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import TruncDate

from lieux.contributions.models import Account, Budget, LedgerDay, LedgerEntry, PersonOwed
from lieux.contributions.selectors.budgets import budget_tz
from lieux.core.db import add_to_totals
from lieux.core.money import CENT


def day_of(budget: Budget, at: datetime) -> date:
    return at.astimezone(budget_tz(budget)).date()


def add_posting(
    *, budget: Budget, kind: str, at: datetime, legs: Iterable[tuple[str, Decimal, int | None]]
) -> None:
    """Add one posting's (account, amount, person id) legs to the budget's day and to what it owes each
    person."""
    per_account: dict[str, Decimal] = defaultdict(Decimal)
    per_person: dict[int, Decimal] = defaultdict(Decimal)
    for account, amount, person_id in legs:
        per_account[account] += amount
        if account == Account.OWED and person_id is not None:
            per_person[person_id] -= amount  # the owed account's credits are debts to the person
    day = day_of(budget, at)
    add_to_totals(
        LedgerDay,
        key=("budget_id", "account", "kind", "day"),
        added=("amount",),
        rows=[(budget.pk, account, kind, day, total) for account, total in per_account.items() if total],
    )
    add_to_totals(
        PersonOwed,
        key=("budget_id", "person_id"),
        added=("amount",),
        rows=[(budget.pk, person_id, total) for person_id, total in per_person.items() if total],
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
    return {(account, kind, day): cents for account, kind, day, total in rows if (cents := _cents(total))}


def rebuild_ledger_days(budget: Budget) -> int:
    """Recompute the budget's day and owed rows from its entries (after a bulk load or a repair); the
    caller holds a transaction. Returns how many rows there are."""
    LedgerDay.objects.filter(budget=budget).delete()
    PersonOwed.objects.filter(budget=budget).delete()
    days = LedgerDay.objects.bulk_create(
        LedgerDay(budget=budget, account=account, kind=kind, day=day, amount=amount)
        for (account, kind, day), amount in days_from_entries(budget).items()
    )
    owed = PersonOwed.objects.bulk_create(
        PersonOwed(budget=budget, person_id=person_id, amount=amount)
        for person_id, amount in owed_from_entries(budget).items()
    )
    return len(days) + len(owed)


def owed_from_entries(budget: Budget) -> dict[int, Decimal]:
    """Person id → what the budget owes them, summed from the entries themselves."""
    rows = (
        LedgerEntry.objects.filter(budget=budget, account=Account.OWED, person__isnull=False)
        .values_list("person_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {person_id: -cents for person_id, total in rows if (cents := _cents(total))}


def _cents(total: Decimal) -> Decimal:
    """A sum of entries in cents: SQLite adds them as floating-point numbers, so 12.51 − 12.50 comes back
    as 0.00999999999999979."""
    return total.quantize(CENT)
