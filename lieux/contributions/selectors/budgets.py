"""Reads about contributive budgets: who manages them, their figures and their burn-down, the credit they
owe the venues that honour it.

Speed: a budget page must stay fast with 100,000 contributions. Its figures never read the entries: they
come from LedgerDay, the per-day sums of the ledger per account and kind that every posting updates (a few
hundred rows for a year), in one GROUP BY; pending requests use the (budget, status) index of
contributions; the burn-down reads the envelope's day rows and folds them into steps in Python. The
credit owed to each venue groups the budget's credit entries, one per credit payout or settlement, in one
query. The entries stay the record: `entry_balances` sums them, for checks.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from lieux.accounts.models import User
from lieux.contributions.models import (
    Account,
    Budget,
    Contribution,
    ContributionStatus,
    FundingReceipt,
    FundingSource,
    LedgerDay,
    LedgerEntry,
    PersonOwed,
    SourceKind,
    TransactionKind,
)
from lieux.contributions.rules import ledger as rules
from lieux.core.money import CENT, ZERO
from lieux.core.time import now
from lieux.venues.models import Role, Venue, VenueRole


def _cents(total: Decimal | None) -> Decimal:
    """A sum as the database gives it (SQLite drops the scale), in cents; nothing is zero."""
    return ZERO if total is None else total.quantize(CENT)


# Who may see and change a budget's money -------------------------------------------------------------


def managed_venue_ids(user) -> set[int]:
    """Venues whose budgets `user` manages: those where they hold the manager role, every venue of the
    networks they administer, every venue for a superuser."""
    if not getattr(user, "is_authenticated", False):
        return set()
    if user.is_superuser:
        return set(Venue.objects.values_list("pk", flat=True))
    ids = set(VenueRole.objects.filter(user=user, role=Role.MANAGER).values_list("venue_id", flat=True))
    ids |= set(Venue.objects.filter(network__admins=user).values_list("pk", flat=True))
    return ids


def managed_budgets_filter(user) -> Q:
    """Budgets `user` manages: a venue's budget by its managers, a network-wide budget (a cross-venue row)
    by the managers of any venue of the network and by the network's admins."""
    venue_ids = managed_venue_ids(user)
    if not venue_ids:
        return Q(pk__in=[])
    network_ids = set(Venue.objects.filter(pk__in=venue_ids).values_list("network_id", flat=True))
    return Q(venue_id__in=venue_ids) | Q(venue__isnull=True, network_id__in=network_ids)


def may_manage(user, *, network_id: int, venue_id: int | None) -> bool:
    """Whether `user` manages the money of a venue, or of the network when `venue_id` is None."""
    if user is None:  # the platform itself: the CLI, set-up scripts
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    # One query, as every page of a budget asks: managers of that venue (of any venue of the network, for a
    # network-wide budget), or admins of the network (managed_venue_ids says the same for a list).
    venues = (
        Venue.objects.filter(network_id=network_id) if venue_id is None else Venue.objects.filter(pk=venue_id)
    )
    return venues.filter(Q(roles__user=user, roles__role=Role.MANAGER) | Q(network__admins=user)).exists()


def may_manage_budget(user, budget: Budget) -> bool:
    return may_manage(user, network_id=budget.network_id, venue_id=budget.venue_id)


def visible_budgets(user) -> QuerySet[Budget]:
    """Public budgets (transparency pages are public) and the private ones `user` manages."""
    return Budget.objects.filter(Q(is_public=True) | managed_budgets_filter(user)).select_related(
        "network", "venue", "project"
    )


def may_see_budget(user, budget: Budget) -> bool:
    return budget.is_public or (user is not None and may_manage_budget(user, budget))


# Figures ------------------------------------------------------------------------------------------------


def budget_tz(budget: Budget) -> ZoneInfo:
    if budget.venue is not None:
        return budget.venue.tz
    return ZoneInfo(timezone.get_default_timezone_name())


def budget_today(budget: Budget) -> date:
    return now().astimezone(budget_tz(budget)).date()


def day_totals(budget: Budget) -> dict[tuple[str, str], Decimal]:
    """(account, kind) → total, in one GROUP BY over the budget's day rows."""
    rows = (
        LedgerDay.objects.filter(budget=budget)
        .values_list("account", "kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {(account, kind): _cents(total) for account, kind, total in rows}


def _balances(totals: dict[tuple[str, str], Decimal]) -> dict[str, Decimal]:
    balances: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for (account, _kind), total in totals.items():
        balances[account] += total
    return dict(balances)


def ledger_balances(budget: Budget) -> dict[str, Decimal]:
    """Account → signed balance."""
    return _balances(day_totals(budget))


def entry_balances(budget: Budget) -> dict[str, Decimal]:
    """Account → signed balance summed from the entries themselves (slow on a big budget: for checks)."""
    rows = (
        LedgerEntry.objects.filter(budget=budget)
        .values_list("account")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {account: _cents(total) for account, total in rows}


def account_balance(budget: Budget, account: str) -> Decimal:
    total = LedgerDay.objects.filter(budget=budget, account=account).aggregate(total=Sum("amount"))["total"]
    return _cents(total)


def pending_requests(budget: Budget) -> tuple[int, Decimal]:
    """Requests submitted for review on this budget: how many, and what they ask."""
    row = Contribution.objects.filter(budget=budget, status=ContributionStatus.SUBMITTED).aggregate(
        count=Count("pk"), asked=Sum("amount_asked")
    )
    return row["count"], _cents(row["asked"])


def budget_figures(budget: Budget) -> rules.Figures:
    totals = day_totals(budget)
    pending_count, pending_amount = pending_requests(budget)
    return rules.figures(
        balances=_balances(totals),
        # Only funding and receipts post to the receivable account; only a pro-rata closing reduces.
        committed=totals.get((Account.RECEIVABLE, TransactionKind.FUNDING), ZERO),
        received=-totals.get((Account.RECEIVABLE, TransactionKind.RECEIPT), ZERO),
        reduced=totals.get((Account.OWED, TransactionKind.REDUCTION), ZERO),
        settled=totals.get((Account.CREDIT_ISSUED, TransactionKind.CREDIT_SETTLEMENT), ZERO),
        pending_count=pending_count,
        pending_amount=pending_amount,
        closed=budget.status == rules.CLOSED,
    )


def person_owed(budget: Budget, person_id: int) -> Decimal:
    """What the budget owes this person: their validated requests not paid yet, less reductions, plus the
    remainder of a credit conversion (PersonOwed, kept by every posting)."""
    found = PersonOwed.objects.filter(budget=budget, person_id=person_id).values_list("amount", flat=True)
    return _cents(found.first())


def owed_by_person(budget: Budget) -> dict[int, Decimal]:
    rows = PersonOwed.objects.filter(budget=budget).exclude(amount=0).values_list("person_id", "amount")
    return dict(rows)


def owed_ranking(budget: Budget, among: QuerySet[User] | None = None) -> QuerySet[PersonOwed]:
    """The people the budget owes something (of `among`, when given), most owed first."""
    found = PersonOwed.objects.filter(budget=budget, amount__gt=0)
    if among is not None:
        found = found.filter(person__in=among)
    return found.order_by("-amount", "person_id")


def owed_to(budget: Budget) -> QuerySet[User]:
    """The people the budget owes something, each with `owed`: narrowed to one person, one row is read."""
    owed = PersonOwed.objects.filter(budget=budget, person=OuterRef("pk")).values("amount")
    each = Subquery(owed, output_field=DecimalField(max_digits=14, decimal_places=2))
    return User.objects.annotate(owed=each).filter(owed__gt=0)


def cash_available(budget: Budget) -> Decimal:
    """Received − paid in euros − credit settled: what can be paid now."""
    return account_balance(budget, Account.CASH)


@dataclass(frozen=True)
class VenueCredit:
    """The network credit a budget issued at one venue, and what it has paid that venue for it."""

    venue_id: int
    venue_name: str
    issued: Decimal
    settled: Decimal

    @property
    def to_settle(self) -> Decimal:
        return self.issued - self.settled


def credit_by_venue(budget: Budget) -> list[VenueCredit]:
    """Per venue, by name: credit issued, settled and still to settle, in one grouped query over the
    budget's credit entries. The account takes only credit payouts (credits: negative) and settlements
    (debits: positive), so the sign tells them apart without reading the transactions."""
    rows = (
        LedgerEntry.objects.filter(budget=budget, account=Account.CREDIT_ISSUED)
        .values_list("venue_id", "venue__name")
        .annotate(
            issued=Sum("amount", filter=Q(amount__lt=0)),
            settled=Sum("amount", filter=Q(amount__gt=0)),
        )
        .order_by("venue__name", "venue_id")
    )
    return [
        VenueCredit(venue_id, name, -_cents(issued), _cents(settled))
        for venue_id, name, issued, settled in rows
    ]


def venue_with_credit(budget: Budget, venue_id: int) -> Venue | None:
    """The venue, when the budget issued credit there: the venues it has something to settle with."""
    issued = LedgerEntry.objects.filter(budget=budget, account=Account.CREDIT_ISSUED, amount__lt=0)
    return Venue.objects.filter(pk=venue_id, pk__in=issued.values("venue_id")).first()


def credit_to_settle(budget: Budget, venue_id: int) -> Decimal:
    """What the budget still owes one venue for the credit it issued there."""
    total = LedgerEntry.objects.filter(
        budget=budget, account=Account.CREDIT_ISSUED, venue_id=venue_id
    ).aggregate(total=Sum("amount"))["total"]
    return -_cents(total)


def funding_sources(budget: Budget) -> list[tuple[FundingSource, Decimal]]:
    """Each source with what it has paid so far."""
    sources = FundingSource.objects.filter(budget=budget).annotate(paid=Sum("receipts__amount"))
    return [(source, _cents(source.paid)) for source in sources]  # type: ignore[attr-defined]


# Burn-down ----------------------------------------------------------------------------------------------


def _daily_movements(budget: Budget) -> dict[date, rules.Movement]:
    committed: dict[date, Decimal] = defaultdict(lambda: ZERO)
    granted: dict[date, Decimal] = defaultdict(lambda: ZERO)
    received: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for day, amount in FundingSource.objects.filter(budget=budget).values_list("committed_on", "amount"):
        committed[day] += _cents(amount)
    for day, amount in FundingReceipt.objects.filter(source__budget=budget).values_list(
        "received_on", "amount"
    ):
        received[day] += _cents(amount)
    # Cash handed to the budget whose deficit this one took over (services.funding.record_receipt).
    for day, amount in FundingReceipt.objects.filter(
        source__budget__carried_to=budget, source__kind=SourceKind.CARRIED_OVER
    ).values_list("received_on", "amount"):
        received[day] -= _cents(amount)
    # Validations debit the envelope, reductions credit it back: funding is left out (dated above by its
    # commitment day, not the day it was recorded).
    rows = LedgerDay.objects.filter(
        budget=budget,
        account=Account.ENVELOPE,
        kind__in=[TransactionKind.VALIDATION, TransactionKind.REDUCTION],
    ).values_list("day", "amount")
    for day, amount in rows:
        granted[day] += _cents(amount)
    days = set(committed) | set(granted) | set(received)
    return {
        day: rules.Movement(committed=committed[day], granted=granted[day], received=received[day])
        for day in days
    }


def burn_down(budget: Budget, step: str | None = None) -> rules.BurnDown:
    movements = _daily_movements(budget)
    total_committed = sum((m.committed for m in movements.values()), ZERO)
    return rules.burn_down(
        starts_on=budget.starts_on,
        ends_on=budget.ends_on,
        today=budget_today(budget),
        movements=movements,
        total_committed=total_committed,
        step=step,
    )
