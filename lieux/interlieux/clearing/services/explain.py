"""Recomputing and explaining a statement from what it kept: its inputs (the visit matrix, the pass
revenue) and its copy of the key. The figures must come out the same as those written, whatever happened to
the visits or the keys since."""

from dataclasses import dataclass
from decimal import Decimal

from lieux.core.money import ZERO
from lieux.interlieux.clearing import rules
from lieux.interlieux.clearing.models import ClearingStatement
from lieux.interlieux.clearing.services.keys import rule_from_snapshot


@dataclass(frozen=True)
class Recomputed:
    pairs: list[rules.PairValue]  # how each pair was valued
    amounts: dict[rules.Pair, Decimal]
    balances: dict[int, Decimal]
    owed: dict[int, Decimal]
    due: dict[int, Decimal]
    transfers: list[rules.Transfer]
    matches: bool  # the stored lines and transfers are exactly these


def stored_cells(statement: ClearingStatement) -> list[rules.Cell]:
    return [
        rules.Cell(home=int(home), host=int(host), visits=int(visits), half_days=int(half_days))
        for home, host, visits, half_days in statement.inputs.get("cells", [])
    ]


def stored_revenue(statement: ClearingStatement) -> dict[int, Decimal]:
    return {int(pk): Decimal(amount) for pk, amount in statement.inputs.get("pass_revenue", {}).items()}


def recompute(statement: ClearingStatement) -> Recomputed:
    key = rule_from_snapshot(statement.key_snapshot)
    revenue = stored_revenue(statement)
    pairs = rules.explain(stored_cells(statement), key, pass_revenue=revenue)
    amounts = {(p.payer, p.payee): p.amount for p in pairs if p.amount}
    balances = rules.net(amounts)
    owed, due = rules.gross(amounts)
    transfers = rules.settle(balances)
    lines = {line.venue_id: (line.gross_owed, line.gross_due, line.net) for line in statement.lines.all()}
    expected_lines = {
        venue_id: (owed.get(venue_id, ZERO), due.get(venue_id, ZERO), balances.get(venue_id, ZERO))
        for venue_id in lines
    }
    stored_transfers = sorted((t.debtor_id, t.creditor_id, t.amount) for t in statement.transfers.all())
    matches = (
        lines == expected_lines
        and all(not balances.get(v) for v in set(balances) - set(lines))
        and stored_transfers == sorted((t.debtor, t.creditor, t.amount) for t in transfers)
    )
    return Recomputed(pairs, amounts, balances, owed, due, transfers, matches)


def explain(statement: ClearingStatement) -> list[str]:
    """The valuation in words, pair by pair, then the balances and transfers (venue names as stored)."""
    names = {int(pk): name for pk, name in statement.inputs.get("venues", {}).items()}

    def name(pk: int) -> str:
        return names.get(pk, f"#{pk}")

    result = recompute(statement)
    key = statement.key_snapshot
    unit = "half-days" if key["method"] == rules.PER_HALF_DAY else "visits"
    lines = [
        f"{statement.month:%Y-%m} key v{key['version']} ({key['method']}, unit price {key['unit_price']}, "
        f"free allowance {key['free_allowance']}, cap {key['cap_per_pair'] or 'none'}, "
        f"revenue share {key['revenue_share_percent']} %)"
    ]
    for pair in result.pairs:
        if key["method"] == rules.REVENUE_SHARE:
            lines.append(
                f"{name(pair.payer)} → {name(pair.payee)}: {pair.units_out} visits, share {pair.amount}"
            )
            continue
        lines.append(
            f"{name(pair.payer)} → {name(pair.payee)}: {pair.units_out} {unit} against {pair.units_back}, "
            f"{pair.free_units} free, {pair.paid_units} paid = {pair.amount}"
            + (" (capped)" if pair.capped else "")
        )
    for venue_id, balance in sorted(result.balances.items(), key=lambda b: name(b[0])):
        lines.append(f"{name(venue_id)}: net {balance:+}")
    for transfer in result.transfers:
        lines.append(f"{name(transfer.debtor)} pays {name(transfer.creditor)} {transfer.amount}")
    return lines
