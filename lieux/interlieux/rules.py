"""Who may enter a venue at a moment, decided in one place. Pure: no ORM, no I/O, no clock.

The selectors gather the facts (the person's grants, the venue's hours and closures, how many days a pass
already used this month); `decide` turns them into a Decision with a stable reason code and the parts of
a sentence explaining it. The door API, the reception desk, the member's "my pass" page and the offline
allow-list all call it, so they can never disagree.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lieux.venues.rules import is_closed_on, open_intervals

# Reason codes, stable: devices, the API and the audit trail use them.
OK_MEMBER = "ok_member"
OK_PASS = "ok_pass"
OK_STAFF = "ok_staff"
NO_SUBSCRIPTION = "no_subscription"
PAST_DUE = "past_due"
OUTSIDE_HOURS = "outside_hours"
OUTSIDE_PASS_HOURS = "outside_pass_hours"
VENUE_CLOSED = "venue_closed"
QUOTA_REACHED = "quota_reached"
NOT_IN_PASS = "not_in_pass"
REVOKED_BADGE = "revoked_badge"
UNKNOWN_CREDENTIAL = "unknown_credential"
BAD_TOKEN = "bad_token"
EXPIRED_TOKEN = "expired_token"
REPLAYED_TOKEN = "replayed_token"
REVOKED_TOKEN = "revoked_token"
WRONG_NETWORK = "wrong_network"
WRONG_VENUE_DEVICE = "wrong_venue_device"

CREDENTIAL_REASONS = frozenset(
    {
        REVOKED_BADGE,
        UNKNOWN_CREDENTIAL,
        BAD_TOKEN,
        EXPIRED_TOKEN,
        REPLAYED_TOKEN,
        REVOKED_TOKEN,
        WRONG_NETWORK,
        WRONG_VENUE_DEVICE,
    }
)
ALLOWED_REASONS = frozenset({OK_MEMBER, OK_PASS, OK_STAFF})

MEMBER = "member"
PASS = "pass"

# When no grant lets the person in, the refusal names the grant that came closest: a pass holder at a
# partner outside the pass's days hears "outside the pass's hours", not "not in your pass" from another one.
_REFUSAL_RANK = {NOT_IN_PASS: 0, OUTSIDE_PASS_HOURS: 1, QUOTA_REACHED: 2, PAST_DUE: 3}

Window = tuple[time, time]


@dataclass(frozen=True)
class Grant:
    """One subscription that may let the person in: at its own venue (`member`) or, through the network
    settings of its plan, at the host venues of a pass (`pass`)."""

    kind: str
    subscription_id: int
    home_venue_id: int
    home_venue_name: str
    plan_name: str
    # What the home venue's past-due policy allows now (billing's PastDueAccess value).
    may_enter: bool = True
    host_venue_ids: frozenset[int] = frozenset()
    weekdays: frozenset[int] = frozenset(range(7))
    window: Window | None = None
    days_per_month: int | None = None
    # Distinct days this pass already let the person in at the host venue this month, today included
    # when `visited_today`.
    days_used: int = 0
    visited_today: bool = False


@dataclass(frozen=True)
class PersonFacts:
    person_id: int | None
    grants: tuple[Grant, ...] = ()
    # A credential refused before anything else is looked at (one of CREDENTIAL_REASONS).
    credential_problem: str | None = None
    is_staff_here: bool = False


@dataclass(frozen=True)
class VenueFacts:
    venue_id: int
    name: str
    tz: ZoneInfo
    windows: Mapping[int, Sequence[Window]]
    closures: Sequence[tuple[date, date]] = ()

    @property
    def always_open(self) -> bool:
        """A venue with no opening hours recorded keeps its doors to its own rules: entry at any hour."""
        return not any(self.windows.values())


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    grant: Grant | None = None
    # Days used at this venue once this entry counts (passes with a quota only).
    days_used: int | None = None
    parts: tuple[str, ...] = field(default=())

    @property
    def explanation(self) -> str:
        return ", ".join(self.parts)


def is_open(venue: VenueFacts, moment: datetime) -> bool:
    if venue.always_open:
        return not is_closed_on(moment.astimezone(venue.tz).date(), venue.closures)
    day = moment.astimezone(venue.tz).date()
    return any(
        opens <= moment < closes
        for opens, closes in open_intervals(day, venue.tz, venue.windows, venue.closures)
    )


def _pass_refusal(grant: Grant, venue: VenueFacts, moment: datetime) -> str | None:
    """Why this pass does not open this venue now, or None when it does."""
    if venue.venue_id not in grant.host_venue_ids:
        return NOT_IN_PASS
    local = moment.astimezone(venue.tz)
    if local.weekday() not in grant.weekdays:
        return OUTSIDE_PASS_HOURS
    if grant.window is not None and not grant.window[0] <= local.time() < grant.window[1]:
        return OUTSIDE_PASS_HOURS
    if not grant.may_enter:
        return PAST_DUE
    if (
        grant.days_per_month is not None
        and not grant.visited_today
        and grant.days_used >= grant.days_per_month
    ):
        return QUOTA_REACHED
    return None


def _grant_refusal(grant: Grant, venue: VenueFacts, moment: datetime) -> str | None:
    if grant.kind == MEMBER:
        if grant.home_venue_id != venue.venue_id:
            return NOT_IN_PASS
        # Network quotas and pass hours never apply to a venue's own members.
        return None if grant.may_enter else PAST_DUE
    return _pass_refusal(grant, venue, moment)


def _refused(reason: str, *parts: str) -> Decision:
    return Decision(allowed=False, reason=reason, parts=tuple(parts) or (describe(reason),))


def decide(person: PersonFacts, venue: VenueFacts, moment: datetime) -> Decision:
    """May this person enter this venue at this instant? Deterministic in its arguments."""
    if moment.tzinfo is None:
        raise ValueError("decide() needs an aware instant")
    if person.credential_problem is not None:
        return _refused(person.credential_problem)
    local_day = moment.astimezone(venue.tz).date()
    if is_closed_on(local_day, venue.closures):
        return _refused(VENUE_CLOSED)
    if not is_open(venue, moment):
        return _refused(OUTSIDE_HOURS)
    if person.is_staff_here:
        return Decision(
            allowed=True, reason=OK_STAFF, parts=(_("valid: team of %(venue)s") % {"venue": venue.name},)
        )
    if not person.grants:
        return _refused(NO_SUBSCRIPTION)
    refusals: list[tuple[str, Grant]] = []
    # Own-venue membership first: it needs no quota, so it never spends a pass day.
    for grant in sorted(person.grants, key=lambda g: (g.kind != MEMBER, g.subscription_id)):
        refusal = _grant_refusal(grant, venue, moment)
        if refusal is None:
            return _admitted(grant, venue)
        refusals.append((refusal, grant))
    reason, grant = max(refusals, key=lambda r: (_REFUSAL_RANK.get(r[0], -1), -r[1].subscription_id))
    if reason == QUOTA_REACHED:
        return Decision(
            allowed=False,
            reason=reason,
            grant=grant,
            days_used=grant.days_used,
            parts=(
                describe(reason),
                quota_used(grant.days_used, grant.days_per_month or 0, venue.name),
            ),
        )
    if reason == PAST_DUE:
        return Decision(
            allowed=False,
            reason=reason,
            grant=grant,
            parts=(
                describe(reason),
                _("an invoice of %(venue)s is overdue") % {"venue": grant.home_venue_name},
            ),
        )
    return Decision(allowed=False, reason=reason, grant=grant, parts=(describe(reason),))


def _admitted(grant: Grant, venue: VenueFacts) -> Decision:
    if grant.kind == MEMBER:
        return Decision(
            allowed=True,
            reason=OK_MEMBER,
            grant=grant,
            parts=(
                _("valid: %(plan)s at %(venue)s") % {"plan": grant.plan_name, "venue": grant.home_venue_name},
            ),
        )
    used = grant.days_used if grant.visited_today else grant.days_used + 1
    parts = [_("valid: Pass Interlieux from %(home)s") % {"home": grant.home_venue_name}]
    if grant.days_per_month is not None:
        parts.append(quota_used(used, grant.days_per_month, venue.name))
    return Decision(allowed=True, reason=OK_PASS, grant=grant, days_used=used, parts=tuple(parts))


def quota_used(used: int, quota: int, venue_name: str) -> str:
    """« 3 of 8 days used this month at Baraka », in the plural the quota asks for."""
    return ngettext(
        "%(used)s of %(quota)s day used this month at %(venue)s",
        "%(used)s of %(quota)s days used this month at %(venue)s",
        quota,
    ) % {"used": used, "quota": quota, "venue": venue_name}


def describe(reason: str) -> str:
    """The human words for a reason code."""
    texts = {
        OK_MEMBER: _("valid: member of this venue"),
        OK_PASS: _("valid: Pass Interlieux"),
        OK_STAFF: _("valid: venue team"),
        NO_SUBSCRIPTION: _("refused: no subscription or pass in force"),
        PAST_DUE: _("refused: payment overdue"),
        OUTSIDE_HOURS: _("refused: the venue is not open at this hour"),
        OUTSIDE_PASS_HOURS: _("refused: outside the days or hours of the pass"),
        VENUE_CLOSED: _("refused: the venue is closed today"),
        QUOTA_REACHED: _("refused: days of the month used up at this venue"),
        NOT_IN_PASS: _("refused: this venue is not part of the pass"),
        REVOKED_BADGE: _("refused: this badge has been revoked"),
        UNKNOWN_CREDENTIAL: _("refused: unknown badge or code"),
        BAD_TOKEN: _("refused: the QR code is not valid"),
        EXPIRED_TOKEN: _("refused: the QR code has expired"),
        REPLAYED_TOKEN: _("refused: this QR code has already been used"),
        REVOKED_TOKEN: _("refused: this QR code has been revoked"),
        WRONG_NETWORK: _("refused: QR code of another network"),
        WRONG_VENUE_DEVICE: _("refused: this door belongs to another venue"),
    }
    return texts.get(reason, reason)


def month_bounds(day: date) -> tuple[date, date]:
    """First and last day of the calendar month of `day` (quotas count per calendar month)."""
    first = day.replace(day=1)
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)
