"""The subscription state machine. Pure: the statuses, the transitions allowed between them, and the check
every service runs before it changes a status.

    trial ──► active ◄──────────► paused
      │        │  ▲ ▲
      │        │  │ └── undo ──── cancelling (ends at period end)
      │        │  └─── paid ───── past_due
      ▼        ▼
    ended ◄── every other status; ended is final

A cancelling subscription that falls past due keeps its end date and goes back to cancelling once paid.
A trial cancelled keeps its status and ends when the trial ends (its `ends_on` is set), because nothing
was paid that a "cancelling" period would have to honour.
"""

from django.utils.translation import gettext as _

from lieux.core.errors import Conflict

TRIAL = "trial"
ACTIVE = "active"
PAUSED = "paused"
CANCELLING = "cancelling"
PAST_DUE = "past_due"
ENDED = "ended"

STATUSES = (TRIAL, ACTIVE, PAUSED, CANCELLING, PAST_DUE, ENDED)

TRANSITIONS: dict[str, frozenset[str]] = {
    TRIAL: frozenset({ACTIVE, ENDED}),
    ACTIVE: frozenset({PAUSED, CANCELLING, PAST_DUE, ENDED}),
    PAUSED: frozenset({ACTIVE, ENDED}),
    CANCELLING: frozenset({ACTIVE, PAST_DUE, ENDED}),
    PAST_DUE: frozenset({ACTIVE, CANCELLING, ENDED}),
    ENDED: frozenset(),
}

# Statuses whose periods are invoiced by the billing run (a past-due member is still subscribed).
BILLABLE = frozenset({ACTIVE, CANCELLING, PAST_DUE})
# Statuses the billing run moves forward in time; a paused subscription stays where it is.
RUNNING = frozenset({TRIAL, ACTIVE, CANCELLING, PAST_DUE})
LIVE = frozenset(STATUSES) - {ENDED}


class IllegalTransition(Conflict):
    code = "illegal_transition"


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def check_transition(current: str, target: str) -> None:
    """Refuse a change of status the machine does not allow."""
    if current not in TRANSITIONS or target not in TRANSITIONS:
        raise IllegalTransition(_("Unknown subscription status."), current=current, target=target)
    if not can_transition(current, target):
        raise IllegalTransition(
            _("A subscription cannot go from “%(current)s” to “%(target)s”.")
            % {"current": current, "target": target},
            current=current,
            target=target,
        )


def status_after_payment(has_end_date: bool) -> str:
    """Where a past-due subscription goes once paid: back to cancelling if its end was already given."""
    return CANCELLING if has_end_date else ACTIVE
