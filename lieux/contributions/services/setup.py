"""Setting contributions up: the credit offered for payouts, an allocation round while it is prepared and
the projects proposed in it, and the activities contributions are filed under. Creating budgets and rounds,
proposing a project and adding an activity are in budgets, rounds and projects; this module holds what
they leave to a manager afterwards.

Policies:

- **Credit offered for payouts.** One conversion per credit type in a network (a unique constraint): its
  rate in euros per credit and how many months the credits granted stay valid. Offering a venue's credit
  commits that venue to honour it, so only those who manage the venue (or the network's admins) offer it,
  change it or withdraw it. A new rate applies to the payouts that follow; those made keep their credits.
- **A round changes only while in preparation.** Opening it fixes the participants' shares from the pot and
  lets them allocate against each project's minimum and maximum: from then on none of these move. A
  proposal withdrawn before opening leaves no trace but its audit row.
- **Activities.** Renaming one changes the word on every contribution filed under it (the point: a typo
  fixed once), never creates a second one of the same name in the same scope. One is removed only while no
  contribution names it: history keeps its words.

Every change writes an audit row in its transaction; bad input raises a ValidationError naming the field
and writes nothing.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from lieux.contributions.errors import NotProjectManager
from lieux.contributions.errors_budgets import NotTreasurer
from lieux.contributions.errors_setup import (
    ActivityInUse,
    ActivityNameTaken,
    CreditAlreadyOffered,
    NotVenueManager,
    RoundNotInPreparation,
)
from lieux.contributions.models import (
    Activity,
    AllocationRound,
    AllocationRule,
    CreditConversion,
    RoundProject,
    RoundStatus,
)
from lieux.contributions.selectors.budgets import may_manage
from lieux.contributions.selectors.setup import may_manage_activities, may_offer_credit
from lieux.contributions.services.budgets import parse_amount
from lieux.contributions.services.projects import clean_activity_name
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import ValidationError
from lieux.memberships.models import CreditType
from lieux.venues.models import Network

MAX_RATE = Decimal("999999.99")  # the column's eight digits
MAX_VALIDITY_MONTHS = 120
MAX_ROUND_NAME = 120
MAX_FUNDER = 160


# Credit offered for payouts ----------------------------------------------------------------------------


def _check_offer(euros_per_credit: Decimal | str, validity_months: int) -> Decimal:
    rate = parse_amount(euros_per_credit, "euros_per_credit")
    if rate > MAX_RATE:
        raise ValidationError(
            _("At most %(max)s € per credit.") % {"max": MAX_RATE},
            code="rate_too_high",
            field="euros_per_credit",
        )
    if (
        not isinstance(validity_months, int)
        or isinstance(validity_months, bool)
        or not 1 <= validity_months <= MAX_VALIDITY_MONTHS
    ):
        raise ValidationError(
            _("Between 1 and %(n)s months.") % {"n": MAX_VALIDITY_MONTHS},
            code="invalid_validity",
            field="validity_months",
        )
    return rate


def _ensure_offers(actor: Any, credit_type: CreditType) -> None:
    if not may_offer_credit(actor, credit_type):
        raise NotVenueManager(credit_type.venue.name)


def offer_credit(
    *,
    network: Network,
    credit_type: CreditType,
    euros_per_credit: Decimal | str,
    validity_months: int = 12,
    actor: Any = None,
) -> CreditConversion:
    """Offer a venue's credit in exchange for euros owed by the network's budgets."""
    if credit_type.venue.network_id != network.pk:
        raise ValidationError(
            _("This credit belongs to a venue of another network."),
            code="credit_type_elsewhere",
            field="credit_type",
        )
    _ensure_offers(actor, credit_type)
    rate = _check_offer(euros_per_credit, validity_months)

    def write() -> CreditConversion:
        if CreditConversion.objects.filter(network=network, credit_type=credit_type).exists():
            raise CreditAlreadyOffered()
        try:
            # Two managers offering the same credit at once: the unique constraint decides, the second
            # one is told as if it had come later.
            with transaction.atomic():
                conversion = CreditConversion.objects.create(
                    network=network,
                    credit_type=credit_type,
                    euros_per_credit=rate,
                    validity_months=validity_months,
                )
        except IntegrityError:
            raise CreditAlreadyOffered() from None
        audit.record(
            "contributions.conversion.created",
            conversion,
            actor=actor,
            venue_id=credit_type.venue_id,
            credit_type=credit_type.pk,
            euros_per_credit=str(rate),
            validity_months=validity_months,
        )
        return conversion

    return atomic_with_retry(write)


def update_credit_offer(
    *,
    conversion: CreditConversion,
    euros_per_credit: Decimal | str,
    validity_months: int,
    is_active: bool,
    actor: Any = None,
) -> CreditConversion:
    """Change an offer's rate or validity, or withdraw it (`is_active=False`) and offer it again."""
    _ensure_offers(actor, conversion.credit_type)
    rate = _check_offer(euros_per_credit, validity_months)

    def write() -> CreditConversion:
        current = CreditConversion.objects.select_for_update(of=("self",)).get(pk=conversion.pk)
        wanted = {"euros_per_credit": rate, "validity_months": validity_months, "is_active": bool(is_active)}
        before = {field: getattr(current, field) for field in wanted}
        changed = [field for field, value in wanted.items() if before[field] != value]
        if not changed:
            return current
        for field in changed:
            setattr(current, field, wanted[field])
        current.save(update_fields=changed)
        audit.record(
            "contributions.conversion.updated",
            current,
            actor=actor,
            venue_id=current.credit_type.venue_id,
            changes={field: [str(before[field]), str(wanted[field])] for field in changed},
        )
        return current

    return atomic_with_retry(write)


# A round in preparation --------------------------------------------------------------------------------


def _ensure_round_manager(actor: Any, round_: AllocationRound) -> None:
    if not may_manage(actor, network_id=round_.network_id, venue_id=round_.venue_id):
        raise NotTreasurer()


def _lock_draft(round_: AllocationRound) -> AllocationRound:
    locked = AllocationRound.objects.select_for_update(of=("self",)).get(pk=round_.pk)
    if locked.status != RoundStatus.DRAFT:
        raise RoundNotInPreparation()
    return locked


def update_round(
    *,
    round: AllocationRound,
    name: str,
    description: str,
    pot: Decimal | str,
    funder: str,
    rule: str,
    opens_at: datetime,
    closes_at: datetime,
    hours_from: date | None = None,
    hours_until: date | None = None,
    actor: Any = None,
) -> AllocationRound:
    """Change everything a round in preparation says but its short name and its venue. The hours window
    only counts for the pro-rata rule and is emptied for the other."""
    _ensure_round_manager(actor, round)
    name, funder = name.strip(), funder.strip()
    if not name:
        raise ValidationError(_("A round needs a name."), code="name_required", field="name")
    if len(name) > MAX_ROUND_NAME:
        raise ValidationError(
            _("At most %(limit)s characters.") % {"limit": MAX_ROUND_NAME}, code="too_long", field="name"
        )
    if not funder:
        raise ValidationError(_("Say where the pot comes from."), code="funder_required", field="funder")
    if len(funder) > MAX_FUNDER:
        raise ValidationError(
            _("At most %(limit)s characters.") % {"limit": MAX_FUNDER}, code="too_long", field="funder"
        )
    value = parse_amount(pot, "pot", allow_zero=True)
    if rule not in AllocationRule.values:
        raise ValidationError(_("Not a valid choice."), code="invalid_rule", field="rule")
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        raise ValidationError(_("Dates must include a time zone offset."), code="naive_datetime")
    if closes_at <= opens_at:
        raise ValidationError(
            _("The round must close after it opens."), code="dates_out_of_order", field="closes_at"
        )
    if rule == AllocationRule.PRO_RATA_HOURS:
        if hours_from is None or hours_until is None or hours_until < hours_from:
            raise ValidationError(
                _("Give the period whose validated hours count."),
                code="hours_period_required",
                field="hours_from",
            )
    else:
        hours_from = hours_until = None
    wanted: dict[str, Any] = {
        "name": name,
        "description": description.strip(),
        "pot": value,
        "funder": funder,
        "rule": rule,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "hours_from": hours_from,
        "hours_until": hours_until,
    }

    def write() -> AllocationRound:
        locked = _lock_draft(round)
        before = {field: getattr(locked, field) for field in wanted}
        changed = [field for field, new in wanted.items() if before[field] != new]
        if not changed:
            return locked
        for field in changed:
            setattr(locked, field, wanted[field])
        locked.save(update_fields=changed)
        audit.record(
            "contributions.round.updated",
            locked,
            actor=actor,
            venue_id=locked.venue_id,
            changes={field: [_shown(before[field]), _shown(wanted[field])] for field in changed},
        )
        return locked

    return atomic_with_retry(write)


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


def change_proposal(
    *, proposal: RoundProject, minimum: Decimal | str, maximum: Decimal | str, actor: Any = None
) -> RoundProject:
    """Change the least a proposed project needs and the most it can use, before the round opens."""
    round_ = proposal.round
    _ensure_round_manager(actor, round_)
    low = parse_amount(minimum, "minimum", allow_zero=True)
    high = parse_amount(maximum, "maximum")
    if high < low:
        raise ValidationError(
            _("The maximum may not be under the minimum."), code="maximum_under_minimum", field="maximum"
        )

    def write() -> RoundProject:
        locked = _lock_draft(round_)
        current = RoundProject.objects.get(pk=proposal.pk, round=locked)
        before = (current.minimum, current.maximum)
        if before == (low, high):
            return current
        current.minimum, current.maximum = low, high
        current.save(update_fields=["minimum", "maximum"])
        audit.record(
            "contributions.round.proposal_changed",
            locked,
            actor=actor,
            venue_id=locked.venue_id,
            project=current.project_id,
            minimum=[str(before[0]), str(low)],
            maximum=[str(before[1]), str(high)],
        )
        return current

    return atomic_with_retry(write)


def withdraw_proposal(*, proposal: RoundProject, actor: Any = None) -> None:
    """Take a project out of a round before it opens."""
    round_ = proposal.round
    _ensure_round_manager(actor, round_)

    def write() -> None:
        locked = _lock_draft(round_)
        current = RoundProject.objects.filter(pk=proposal.pk, round=locked).first()
        if current is None:
            return  # already withdrawn: a second click changes nothing
        project_id, low, high = current.project_id, current.minimum, current.maximum
        current.delete()
        audit.record(
            "contributions.round.project_withdrawn",
            locked,
            actor=actor,
            venue_id=locked.venue_id,
            project=project_id,
            minimum=str(low),
            maximum=str(high),
        )

    atomic_with_retry(write)


# Activities --------------------------------------------------------------------------------------------


def _ensure_activities(actor: Any, activity: Activity) -> None:
    if not may_manage_activities(actor, network_id=activity.network_id, budget=activity.budget):
        raise NotProjectManager()


def rename_activity(*, activity: Activity, name: str, actor: Any = None) -> Activity:
    """Give an activity another name; every contribution filed under it now reads the new one."""
    _ensure_activities(actor, activity)
    name = clean_activity_name(name)

    def write() -> Activity:
        current = Activity.objects.select_for_update(of=("self",)).get(pk=activity.pk)
        if current.name == name:
            return current
        same_scope = Activity.objects.filter(network_id=current.network_id)
        if current.budget_id is None:
            same_scope = same_scope.filter(budget__isnull=True)
        else:
            same_scope = same_scope.filter(budget_id=current.budget_id)
        # Compared without case, as declarations match activity names.
        if same_scope.exclude(pk=current.pk).filter(name__iexact=name).exists():
            raise ActivityNameTaken(name)
        before = current.name
        current.name = name
        try:
            with transaction.atomic():
                current.save(update_fields=["name"])
        except IntegrityError:
            raise ActivityNameTaken(name) from None
        audit.record(
            "contributions.activity.renamed",
            current,
            actor=actor,
            venue_id=_venue_of(current),
            budget=current.budget_id,
            before=before,
            after=name,
        )
        return current

    return atomic_with_retry(write)


def _venue_of(activity: Activity) -> int | None:
    return activity.budget.venue_id if activity.budget is not None else None


def remove_activity(*, activity: Activity, actor: Any = None) -> None:
    """Remove an activity no contribution names (one added by mistake)."""
    _ensure_activities(actor, activity)

    def write() -> None:
        current = Activity.objects.select_for_update(of=("self",)).filter(pk=activity.pk).first()
        if current is None:
            return  # already removed
        if current.contributions.exists():
            raise ActivityInUse(current.name)
        audit.record(
            "contributions.activity.removed",
            current,
            actor=actor,
            venue_id=_venue_of(current),
            budget=current.budget_id,
            name=current.name,
        )
        current.delete()

    atomic_with_retry(write)
