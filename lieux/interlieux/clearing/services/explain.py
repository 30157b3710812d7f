"""Recomputing and explaining a statement from what it kept: its inputs (the visit matrix, the pass
revenue, the credits used at a partner) and its copy of the key. The figures must come out the same as
those written, whatever happened to the visits, the bookings or the keys since. A statement written before
the credits were valued has no credits in its inputs: they count as none."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lieux.core.money import ZERO
from lieux.interlieux.clearing import rules
from lieux.interlieux.clearing.models import ClearingStatement
from lieux.interlieux.clearing.services.keys import rule_from_snapshot


@dataclass(frozen=True)
class Recomputed:
    pairs: list[rules.PairValue]  # how each pair was valued for its visits
    credits: list[rules.CreditValue]  # what each ordered pair owes for credits used at a partner
    amounts: dict[rules.Pair, Decimal]
    balances: dict[int, Decimal]
    owed: dict[int, Decimal]
    due: dict[int, Decimal]
    transfers: list[rules.Transfer]
    matches: bool  # the stored lines and transfers are exactly these


@dataclass(frozen=True)
class PairParts:
    """What one ordered pair owes, the visits part beside the credits part."""

    payer: int
    payee: int
    visits_amount: Decimal
    credit_bookings: int
    credits_amount: Decimal

    @property
    def total(self) -> Decimal:
        return self.visits_amount + self.credits_amount


def stored_cells(statement: ClearingStatement) -> list[rules.Cell]:
    return [
        rules.Cell(home=int(home), host=int(host), visits=int(visits), half_days=int(half_days))
        for home, host, visits, half_days in statement.inputs.get("cells", [])
    ]


def stored_revenue(statement: ClearingStatement) -> dict[int, Decimal]:
    return {int(pk): Decimal(amount) for pk, amount in statement.inputs.get("pass_revenue", {}).items()}


def stored_credits(statement: ClearingStatement) -> list[rules.CreditValue]:
    return [
        rules.CreditValue(payer=int(payer), payee=int(payee), bookings=int(bookings), amount=Decimal(amount))
        for payer, payee, bookings, amount in statement.inputs.get("credits", [])
    ]


def recompute(statement: ClearingStatement) -> Recomputed:
    key = rule_from_snapshot(statement.key_snapshot)
    revenue = stored_revenue(statement)
    pairs = rules.explain(stored_cells(statement), key, pass_revenue=revenue)
    credits = stored_credits(statement)
    amounts = rules.add_credits({(p.payer, p.payee): p.amount for p in pairs if p.amount}, credits)
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
    return Recomputed(pairs, credits, amounts, balances, owed, due, transfers, matches)


def pair_parts(result: Recomputed) -> list[PairParts]:
    """Every ordered pair that owes something or had visits valued, by (payer, payee)."""
    visits = {(p.payer, p.payee): p.amount for p in result.pairs}
    credits = {(c.payer, c.payee): c for c in result.credits}
    parts = []
    for payer, payee in sorted(set(visits) | set(credits)):
        credit = credits.get((payer, payee))
        parts.append(
            PairParts(
                payer=payer,
                payee=payee,
                visits_amount=visits.get((payer, payee), ZERO),
                credit_bookings=credit.bookings if credit else 0,
                credits_amount=credit.amount if credit else ZERO,
            )
        )
    return parts


def venue_names(statement: ClearingStatement) -> dict[int, str]:
    """The venues' names as the statement stored them."""
    return {int(pk): name for pk, name in statement.inputs.get("venues", {}).items()}


def explain(statement: ClearingStatement) -> list[str]:
    """The valuation in words, pair by pair (visits, then credits used at a partner), then the balances
    and transfers (venue names as stored)."""
    names = venue_names(statement)

    def name(pk: int) -> str:
        return names.get(pk, f"#{pk}")

    result = recompute(statement)
    key = statement.key_snapshot
    lines = [
        _(
            "%(month)s key v%(version)s (%(method)s, unit price %(price)s, free allowance %(allowance)s, "
            "cap %(cap)s, revenue share %(share)s %%)"
        )
        % {
            "month": f"{statement.month:%Y-%m}",
            "version": key["version"],
            "method": key["method"],
            "price": key["unit_price"],
            "allowance": key["free_allowance"],
            "cap": key["cap_per_pair"] or _("none"),
            "share": key["revenue_share_percent"],
        }
    ]

    def pair_line(payer: int, payee: int, part: str) -> str:
        return _("%(payer)s → %(payee)s: %(part)s") % {
            "payer": name(payer),
            "payee": name(payee),
            "part": part,
        }

    for pair in result.pairs:
        lines.append(pair_line(pair.payer, pair.payee, _visits_part(pair, key["method"])))
    for credit in result.credits:
        part = ngettext(
            "credits used at a partner, %(count)s booking = %(amount)s",
            "credits used at a partner, %(count)s bookings = %(amount)s",
            credit.bookings,
        ) % {"count": credit.bookings, "amount": credit.amount}
        lines.append(pair_line(credit.payer, credit.payee, part))
    for venue_id, balance in sorted(result.balances.items(), key=lambda b: name(b[0])):
        lines.append(_("%(venue)s: net %(balance)s") % {"venue": name(venue_id), "balance": f"{balance:+}"})
    for transfer in result.transfers:
        lines.append(
            _("%(debtor)s pays %(creditor)s %(amount)s")
            % {
                "debtor": name(transfer.debtor),
                "creditor": name(transfer.creditor),
                "amount": transfer.amount,
            }
        )
    return lines


def _visits_part(pair: rules.PairValue, method: str) -> str:
    if method == rules.REVENUE_SHARE:
        return _("%(visits)s visits, share %(amount)s") % {"visits": pair.units_out, "amount": pair.amount}
    numbers = {
        "out": pair.units_out,
        "back": pair.units_back,
        "free": pair.free_units,
        "paid": pair.paid_units,
        "amount": pair.amount,
    }
    if method == rules.PER_HALF_DAY:
        text = _("%(out)s half-days against %(back)s, %(free)s free, %(paid)s paid = %(amount)s") % numbers
    else:
        text = _("%(out)s visits against %(back)s, %(free)s free, %(paid)s paid = %(amount)s") % numbers
    return f"{text} ({_('capped')})" if pair.capped else text
