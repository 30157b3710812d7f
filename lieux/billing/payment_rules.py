"""Pure rules of money-in: SEPA identifiers and codes, debit sequence types, reminder levels.
No ORM, no I/O."""

import re
from datetime import date

from django.utils.translation import gettext_lazy as _

# The debtor must be told the amount and date of a debit this many calendar days before it (SEPA Core
# rulebook default, unless the contract agrees a shorter notice; the invoice may serve as the notice).
PRENOTIFICATION_DAYS = 14

# Days after the due date at which each reminder level is sent: a friendly note, a second reminder, and a
# last one before the venue's past-due policy and the formal notice (mise en demeure).
REMINDER_DAYS: tuple[int, ...] = (7, 21, 45)

CREDITOR_ID_PATTERN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{3}[A-Z0-9]{1,28}")

# ISO 20022 reason codes of R-transactions (rejects, returns, refunds) that French banks report on SEPA
# Core debits, with the label a treasurer reads on the bank statement.
RETURN_REASONS = {
    "AC01": _("Incorrect account number"),
    "AC04": _("Account closed"),
    "AC06": _("Account blocked"),
    "AG01": _("Direct debits not allowed on this account"),
    "AG02": _("Invalid operation code"),
    "AM04": _("Insufficient funds"),
    "AM05": _("Duplicate collection"),
    "BE05": _("Creditor identifier incorrect"),
    "CNOR": _("Creditor's bank not reachable"),
    "DNOR": _("Debtor's bank not reachable"),
    "FF01": _("Invalid file format"),
    "MD01": _("No mandate"),
    "MD02": _("Mandate data missing or incorrect"),
    "MD06": _("Refund requested by the debtor"),
    "MD07": _("Debtor deceased"),
    "MS02": _("Refused by the debtor"),
    "MS03": _("Reason not specified"),
    "RC01": _("Incorrect BIC"),
    "RR01": _("Debtor identification missing (regulatory reason)"),
    "RR02": _("Debtor name or address missing (regulatory reason)"),
    "RR03": _("Creditor name or address missing (regulatory reason)"),
    "RR04": _("Regulatory reason"),
    "SL01": _("Specific service of the debtor's bank"),
}

# After these, the same mandate will not be paid again: it is revoked with the return.
MANDATE_ENDING_REASONS = frozenset({"AC01", "AC04", "MD01", "MD07"})


def creditor_id_is_valid(value: str) -> bool:
    """A SEPA creditor identifier (ICS in France, e.g. FR72ZZZ123456): country, two check digits
    (ISO 7064 MOD 97-10 over the national part, the business code left out), business code, national id."""
    compact = value.replace(" ", "").upper()
    # MOD 97-10 check digits run from 02 to 98 (99 and 00, 01 would repeat 02 and 97, 98).
    if not CREDITOR_ID_PATTERN.fullmatch(compact) or not 2 <= int(compact[2:4]) <= 98:
        return False
    digits = "".join(str(int(char, 36)) for char in compact[7:] + compact[:4])
    return int(digits) % 97 == 1


def sequence_type(*, mandate_used: bool) -> str:
    """FRST for the first debit of a mandate (or the next one after a first that failed), RCUR after."""
    return "RCUR" if mandate_used else "FRST"


def reminder_level_due(due_on: date, today: date, sent_levels: set[int]) -> int | None:
    """The reminder to send today for an invoice due on `due_on`, given the levels already sent: the
    highest level reached, unless it or a higher one went out already (a worker stopped for a month sends
    one reminder, not three). Levels count from 1."""
    overdue_days = (today - due_on).days
    reached = [level for level, days in enumerate(REMINDER_DAYS, start=1) if overdue_days >= days]
    if not reached:
        return None
    level = reached[-1]
    if sent_levels and max(sent_levels) >= level:
        return None
    return level
