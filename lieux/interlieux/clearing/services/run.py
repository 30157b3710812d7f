"""Running the clearing of a month: count the matrix and the bookings paid with another venue's credits,
value them, net them, write the statement once.

Two runs of the same month at once produce one statement: the first claims the (network, month) row by
inserting it (a unique constraint), the second waits on that row, then finds it and recomputes it under
the row lock. On SQLite the IMMEDIATE transaction serialises writers anyway. A closed month is refused.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import Conflict, ValidationError
from lieux.core.money import ZERO, cents
from lieux.core.time import now
from lieux.interlieux.clearing import rules, selectors
from lieux.interlieux.clearing.models import (
    ClearingKey,
    ClearingStatement,
    SettlementLine,
    Transfer,
)
from lieux.interlieux.clearing.services.close import close_locked
from lieux.interlieux.clearing.services.keys import rule_of, snapshot
from lieux.venues.models import Network

Progress = Callable[[str], None]


@dataclass
class ClearingResult:
    """Everything a month's clearing computes, before anything is written."""

    month: date
    key: ClearingKey
    cells: list[rules.Cell]
    venue_names: dict[int, str]
    pass_revenue: dict[int, Decimal]
    credits: list[rules.CreditValue]
    amounts: dict[rules.Pair, Decimal]  # visits and credits together, before netting
    balances: dict[int, Decimal]
    owed: dict[int, Decimal]
    due: dict[int, Decimal]
    transfers: list[rules.Transfer]
    visits_out: dict[int, int] = field(default_factory=dict)
    visits_in: dict[int, int] = field(default_factory=dict)

    @property
    def visits(self) -> int:
        return sum(c.visits for c in self.cells)

    @property
    def credit_bookings(self) -> int:
        return sum(c.bookings for c in self.credits)

    @property
    def credits_amount(self) -> Decimal:
        return sum((c.amount for c in self.credits), ZERO)

    @property
    def cleared_amount(self) -> Decimal:
        return sum((t.amount for t in self.transfers), ZERO)

    def inputs(self) -> dict[str, Any]:
        return {
            "cells": [[c.home, c.host, c.visits, c.half_days] for c in self.cells],
            "venues": {str(pk): name for pk, name in self.venue_names.items()},
            "pass_revenue": {str(pk): str(amount) for pk, amount in self.pass_revenue.items()},
            "credits": [[c.payer, c.payee, c.bookings, str(c.amount)] for c in self.credits],
            "credit_bookings": self.credit_bookings,
        }


def _silent(_line: str) -> None:
    pass


def choose_key(network: Network, month: date, key: ClearingKey | None) -> ClearingKey:
    if key is None:
        key = selectors.current_key(network, month)
        if key is None:
            raise ValidationError(
                _("The network has voted no clearing key by the end of this month."), code="no_key"
            )
    elif key.network_id != network.pk:
        raise ValidationError(_("This key belongs to another network."), code="foreign_key")
    return key


def checked_revenue(
    network: Network, key: ClearingKey, pass_revenue: Mapping[int, Decimal] | None, venue_ids: set[int]
) -> dict[int, Decimal]:
    if pass_revenue is None:
        if key.method == rules.REVENUE_SHARE:
            raise ValidationError(
                _("A revenue share needs the pass revenue of each home venue for the month."),
                code="pass_revenue_required",
            )
        return {}
    unknown = set(pass_revenue) - venue_ids
    if unknown:
        raise ValidationError(_("Pass revenue given for a venue outside the network."), code="foreign_venue")
    if any(amount < 0 for amount in pass_revenue.values()):
        raise ValidationError(_("Pass revenue cannot be negative."), code="invalid_revenue")
    return {venue_id: cents(amount) for venue_id, amount in pass_revenue.items()}


def compute(
    cells: list[rules.Cell],
    key: ClearingKey,
    *,
    month: date,
    venue_names: dict[int, str],
    pass_revenue: dict[int, Decimal],
    credits: list[rules.CreditValue],
) -> ClearingResult:
    """Value, net and settle a matrix already counted, with the credits used at a partner already valued."""
    amounts = rules.add_credits(rules.value(cells, rule_of(key), pass_revenue=pass_revenue), credits)
    balances = rules.net(amounts)
    owed, due = rules.gross(amounts)
    visits_out: dict[int, int] = {}
    visits_in: dict[int, int] = {}
    for cell in cells:
        visits_out[cell.home] = visits_out.get(cell.home, 0) + cell.visits
        visits_in[cell.host] = visits_in.get(cell.host, 0) + cell.visits
    return ClearingResult(
        month=month,
        key=key,
        cells=cells,
        venue_names=venue_names,
        pass_revenue=pass_revenue,
        credits=credits,
        amounts=amounts,
        balances=balances,
        owed=owed,
        due=due,
        transfers=rules.settle(balances),
        visits_out=visits_out,
        visits_in=visits_in,
    )


def preview_clearing(
    network: Network,
    month: date,
    *,
    key: ClearingKey | None = None,
    pass_revenue: Mapping[int, Decimal] | None = None,
    progress: Progress = _silent,
) -> ClearingResult:
    """The month's clearing computed from the visits and bookings as they are now, writing nothing (a dry
    run)."""
    month = month.replace(day=1)
    key = choose_key(network, month, key)
    venue_names = {v.pk: v.name for v in selectors.network_venues(network)}
    revenue = checked_revenue(network, key, pass_revenue, set(venue_names))
    cells = selectors.visit_matrix(network, month)
    progress(
        _("%(visits)s cross-venue visits counted in %(pairs)s pairs of venues")
        % {"visits": sum(c.visits for c in cells), "pairs": len(cells)}
    )
    credits = rules.value_credits(selectors.credit_bookings(network, month))
    result = compute(cells, key, month=month, venue_names=venue_names, pass_revenue=revenue, credits=credits)
    progress(
        _("%(bookings)s bookings paid with another venue's credits: %(amount)s € owed in full")
        % {"bookings": result.credit_bookings, "amount": result.credits_amount}
    )
    progress(
        _("valued with key v%(version)s: %(amount)s € owed before netting, %(count)s transfers after")
        % {
            "version": key.version,
            "amount": sum(result.amounts.values(), ZERO),
            "count": len(result.transfers),
        }
    )
    return result


def claim_statement(network: Network, month: date, key: ClearingKey) -> ClearingStatement:
    """The month's statement, created or locked: the guard that makes concurrent runs write one."""
    try:
        with transaction.atomic():
            return ClearingStatement.objects.create(network=network, month=month, key=key)
    except IntegrityError:
        return ClearingStatement.objects.select_for_update().get(network=network, month=month)


def write_statement(
    statement: ClearingStatement, result: ClearingResult, *, actor: Any = None
) -> ClearingStatement:
    statement.transfers.all().delete()
    statement.lines.all().delete()
    statement.key = result.key
    statement.key_snapshot = snapshot(result.key)
    statement.inputs = result.inputs()
    statement.visits = result.visits
    statement.cleared_amount = result.cleared_amount
    statement.computed_at = now()
    statement.computed_by = actor if getattr(actor, "is_authenticated", False) else None
    statement.save()
    involved = set(result.balances) | set(result.visits_out) | set(result.visits_in)
    SettlementLine.objects.bulk_create(
        SettlementLine(
            statement=statement,
            venue_id=venue_id,
            visits_out=result.visits_out.get(venue_id, 0),
            visits_in=result.visits_in.get(venue_id, 0),
            gross_owed=result.owed.get(venue_id, ZERO),
            gross_due=result.due.get(venue_id, ZERO),
            net=result.balances.get(venue_id, ZERO),
        )
        for venue_id in sorted(involved)
    )
    Transfer.objects.bulk_create(
        Transfer(statement=statement, debtor_id=t.debtor, creditor_id=t.creditor, amount=t.amount)
        for t in result.transfers
    )
    return statement


def run_clearing(
    network: Network,
    month: date,
    *,
    key: ClearingKey | None = None,
    actor: Any = None,
    close: bool = False,
    pass_revenue: Mapping[int, Decimal] | None = None,
    progress: Progress = _silent,
) -> ClearingStatement:
    """Compute the month's clearing and write (or rewrite, while a draft) its statement; with `close`,
    also issue its invoices and close the month, in the same transaction."""
    month = month.replace(day=1)
    key = choose_key(network, month, key)

    def work() -> ClearingStatement:
        statement = claim_statement(network, month, key)
        if statement.is_closed:
            raise Conflict(
                _("%(month)s is closed: its statement can no longer change.") % {"month": f"{month:%Y-%m}"},
                code="month_closed",
            )
        result = preview_clearing(network, month, key=key, pass_revenue=pass_revenue, progress=progress)
        write_statement(statement, result, actor=actor)
        audit.record(
            "clearing.statement.computed",
            statement,
            actor=actor,
            month=f"{month:%Y-%m}",
            key_version=key.version,
            visits=result.visits,
            credit_bookings=result.credit_bookings,
            credits_amount=str(result.credits_amount),
            transfers=len(result.transfers),
            cleared_amount=str(result.cleared_amount),
        )
        progress(_("statement %(id)s written (draft)") % {"id": statement.pk})
        if close:
            close_locked(statement, actor=actor, progress=progress)
        return statement

    return atomic_with_retry(work)
