"""Allocation rounds (« Budget collectif »): a pot shared between proposed projects.

A round is prepared (pot, dates, rule, proposed projects with their minimum and maximum), opened, then
closed. The arithmetic and its policies are in lieux.contributions.rules.rounds.

- **Participants** (participatory rule) are fixed when the round opens: the active people holding a role,
  or a live subscription (trial, active, ending at period end), at the round's venue — or at any venue of
  the network for a network round. Each receives an equal share, the cents that do not divide going to the
  first by person id.
- **Allocations** are made between the opening and closing dates of an open round; a participant may
  change them until it closes, never beyond their share. Each allocation holds the round's row lock, as
  the closing does, so none lands after the closing has counted.
- **Closing**, after the closing date, funds each project as the rule says, gives each funded project a
  contributive budget of one year funded by a source « Budget collectif <round> », and reports what stays
  undistributed. Closing a closed round returns it.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from lieux.accounts.models import User
from lieux.contributions.errors_budgets import NotTreasurer, RoundNotOpen, ShareExceeded
from lieux.contributions.models import (
    Allocation,
    AllocationRound,
    AllocationRule,
    Budget,
    Contribution,
    ContributionStatus,
    Project,
    RoundParticipant,
    RoundProject,
    RoundStatus,
    SourceKind,
)
from lieux.contributions.rules import rounds as rules
from lieux.contributions.selectors.budgets import may_manage
from lieux.contributions.services.budgets import parse_amount
from lieux.contributions.services.funding import add_source_locked
from lieux.core import audit
from lieux.core.db import atomic_with_retry
from lieux.core.errors import Conflict, Forbidden, NotFound, ValidationError
from lieux.core.money import ZERO
from lieux.core.time import now
from lieux.memberships.models import Subscription, SubscriptionStatus
from lieux.memberships.rules.credits import add_months
from lieux.venues.models import Network, Venue, VenueRole

LIVE_SUBSCRIPTIONS = (SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELLING)
FUNDED_BUDGET_MONTHS = 12


@dataclass(frozen=True)
class RoundResult:
    round: AllocationRound
    funded: dict[int, Decimal]  # project id → amount (0: not funded)
    undistributed: Decimal
    budgets: dict[int, Budget]  # project id → the budget created for it


def _ensure_manager(actor: Any, network_id: int, venue_id: int | None) -> None:
    if not may_manage(actor, network_id=network_id, venue_id=venue_id):
        raise NotTreasurer()


def _lock(round_: AllocationRound) -> AllocationRound:
    return AllocationRound.objects.select_for_update(of=("self",)).get(pk=round_.pk)


def _round_today(round_: AllocationRound) -> date:
    tz = round_.venue.tz if round_.venue is not None else timezone.get_default_timezone()
    return now().astimezone(tz).date()


def create_round(
    *,
    network: Network,
    slug: str,
    name: str,
    pot: Decimal | str,
    funder: str,
    opens_at: datetime,
    closes_at: datetime,
    rule: str = AllocationRule.PARTICIPATORY,
    venue: Venue | None = None,
    hours_from: date | None = None,
    hours_until: date | None = None,
    description: str = "",
    actor: Any = None,
) -> AllocationRound:
    """A round in preparation; projects are proposed before it opens."""
    _ensure_manager(actor, network.pk, venue.pk if venue is not None else None)
    if venue is not None and venue.network_id != network.pk:
        raise ValidationError(
            _("This venue belongs to another network."), code="venue_elsewhere", field="venue"
        )
    if not name.strip():
        raise ValidationError(_("A round needs a name."), code="name_required", field="name")
    if not funder.strip():
        raise ValidationError(_("Say where the pot comes from."), code="funder_required", field="funder")
    value = parse_amount(pot, "pot")
    if rule not in AllocationRule.values:
        raise ValidationError(_("Not a valid choice."), code="invalid_rule", field="rule")
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        raise ValidationError(_("Dates must include a time zone offset."), code="naive_datetime")
    if closes_at <= opens_at:
        raise ValidationError(_("The round must close after it opens."), code="dates_out_of_order")
    if rule == AllocationRule.PRO_RATA_HOURS and (
        hours_from is None or hours_until is None or hours_until < hours_from
    ):
        raise ValidationError(_("Give the period whose validated hours count."), code="hours_period_required")

    def write() -> AllocationRound:
        if AllocationRound.objects.filter(network=network, slug=slug).exists():
            raise Conflict(_("The network already has a round with this name."), code="round_slug_taken")
        made = AllocationRound.objects.create(
            network=network,
            venue=venue,
            slug=slug,
            name=name.strip(),
            description=description,
            pot=value,
            funder=funder.strip(),
            rule=rule,
            opens_at=opens_at,
            closes_at=closes_at,
            hours_from=hours_from,
            hours_until=hours_until,
        )
        audit.record(
            "contributions.round.created",
            made,
            actor=actor,
            venue_id=made.venue_id,
            pot=str(value),
            rule=rule,
            opens_at=opens_at.isoformat(),
            closes_at=closes_at.isoformat(),
        )
        return made

    return atomic_with_retry(write)


def propose_project(
    *,
    round: AllocationRound,
    project: Project,
    minimum: Decimal | str,
    maximum: Decimal | str,
    actor: Any = None,
) -> RoundProject:
    """Put a project in the round with the least it needs and the most it can use (until it closes)."""
    _ensure_manager(actor, round.network_id, round.venue_id)
    if project.network_id != round.network_id:
        raise ValidationError(_("This project belongs to another network."), code="project_elsewhere")
    low = parse_amount(minimum, "minimum", allow_zero=True)
    high = parse_amount(maximum, "maximum")
    if high < low:
        raise ValidationError(
            _("The maximum may not be under the minimum."), code="maximum_under_minimum", field="maximum"
        )

    def write() -> RoundProject:
        locked = _lock(round)
        if locked.status == RoundStatus.CLOSED:
            raise RoundNotOpen()
        if RoundProject.objects.filter(round=locked, project=project).exists():
            raise Conflict(_("This project is already in the round."), code="project_already_proposed")
        proposal = RoundProject.objects.create(round=locked, project=project, minimum=low, maximum=high)
        audit.record(
            "contributions.round.project_proposed",
            locked,
            actor=actor,
            venue_id=locked.venue_id,
            project=project.pk,
            minimum=str(low),
            maximum=str(high),
        )
        return proposal

    return atomic_with_retry(write)


def eligible_people(round_: AllocationRound) -> list[int]:
    """Ids of the active people with a role or a live subscription where the round takes place."""
    if round_.venue_id is not None:
        venue_ids = [round_.venue_id]
    else:
        venue_ids = list(Venue.objects.filter(network_id=round_.network_id).values_list("pk", flat=True))
    with_role = VenueRole.objects.filter(venue_id__in=venue_ids).values_list("user_id", flat=True)
    subscribed = Subscription.objects.filter(
        venue_id__in=venue_ids, status__in=LIVE_SUBSCRIPTIONS
    ).values_list("member_id", flat=True)
    return list(
        User.objects.filter(is_active=True)
        .filter(Q(pk__in=with_role) | Q(pk__in=subscribed))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def open_round(*, round: AllocationRound, actor: Any = None) -> AllocationRound:
    """Open the round: fix its participants and their equal shares (participatory rule)."""
    _ensure_manager(actor, round.network_id, round.venue_id)

    def write() -> AllocationRound:
        locked = _lock(round)
        if locked.status == RoundStatus.OPEN:
            return locked
        if locked.status == RoundStatus.CLOSED:
            raise RoundNotOpen()
        if not locked.projects.exists():
            raise ValidationError(_("Propose at least one project first."), code="no_projects")
        people: list[int] = []
        if locked.rule == AllocationRule.PARTICIPATORY:
            people = eligible_people(locked)
            if not people:
                raise ValidationError(_("Nobody can take part in this round."), code="no_participants")
            shares = rules.equal_shares(locked.pot, len(people))
            RoundParticipant.objects.bulk_create(
                RoundParticipant(round=locked, person_id=pk, share=share)
                for pk, share in zip(people, shares, strict=True)
            )
        locked.status = RoundStatus.OPEN
        locked.save(update_fields=["status"])
        audit.record(
            "contributions.round.opened",
            locked,
            actor=actor,
            venue_id=locked.venue_id,
            participants=len(people),
            share=str(rules.equal_shares(locked.pot, len(people))[-1]) if people else None,
        )
        return locked

    return atomic_with_retry(write)


def allocate(
    *,
    round: AllocationRound,
    person: User,
    amounts: dict[int, Decimal | str],
    actor: Any = None,
) -> list[Allocation]:
    """Set what `person` puts on each proposed project (round project id → euros; 0 takes it back). The
    amounts not named stay as they were; the total may not pass the person's share."""
    if actor is not None and getattr(actor, "pk", None) != person.pk:
        raise Forbidden(_("Each participant allocates their own share."), code="not_your_share")
    values = {int(pk): parse_amount(amount, "amount", allow_zero=True) for pk, amount in amounts.items()}

    def write() -> list[Allocation]:
        # The round's lock: a closing that has read the allocations is never followed by one more.
        locked = _lock(round)
        moment = now()
        if (
            locked.status != RoundStatus.OPEN
            or locked.rule != AllocationRule.PARTICIPATORY
            or not locked.opens_at <= moment < locked.closes_at
        ):
            raise RoundNotOpen()
        participant = RoundParticipant.objects.filter(round=locked, person=person).first()
        if participant is None:
            raise Forbidden(_("You do not take part in this round."), code="not_a_participant")
        proposals = set(RoundProject.objects.filter(round=locked).values_list("pk", flat=True))
        if unknown := set(values) - proposals:
            raise NotFound(
                _("No such project in this round: %(ids)s.") % {"ids": ", ".join(map(str, sorted(unknown)))},
                code="unknown_round_project",
            )
        current = dict(participant.allocations.values_list("round_project_id", "amount"))
        merged = current | values
        if not rules.allocation_fits(participant.share, list(merged.values())):
            raise ShareExceeded(participant.share)
        Allocation.objects.filter(participant=participant, round_project_id__in=list(values)).delete()
        Allocation.objects.bulk_create(
            Allocation(participant=participant, round_project_id=pk, amount=amount, updated_at=moment)
            for pk, amount in sorted(values.items())
            if amount > 0
        )
        audit.record(
            "contributions.round.allocated",
            locked,
            actor=actor,
            venue_id=locked.venue_id,
            person=person.pk,
            amounts={str(pk): str(amount) for pk, amount in sorted(values.items())},
        )
        return list(participant.allocations.order_by("round_project_id"))

    return atomic_with_retry(write)


def _validated_hours(round_: AllocationRound, project_ids: list[int]) -> dict[int, Decimal]:
    rows = (
        Contribution.objects.filter(
            project_id__in=project_ids,
            status__in=[ContributionStatus.VALIDATED, ContributionStatus.PAID],
            performed_on__gte=round_.hours_from,
            performed_on__lte=round_.hours_until,
            hours__isnull=False,
        )
        .values_list("project_id")
        .annotate(total=Sum("hours"))
        .order_by()
    )
    return {pk: total for pk, total in rows}


def _budget_slug(round_: AllocationRound, project: Project) -> str:
    base = f"{round_.slug}-{project.slug}"[:44].strip("-")
    slug, n = base, 1
    while Budget.objects.filter(network_id=round_.network_id, slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _fund(round_: AllocationRound, proposal: RoundProject, amount: Decimal, actor: Any) -> Budget:
    project = proposal.project
    starts_on = _round_today(round_)
    budget = Budget.objects.create(
        network_id=round_.network_id,
        venue_id=project.venue_id or round_.venue_id,
        project=project,
        slug=_budget_slug(round_, project),
        name=f"{round_.name} — {project.title}"[:120],
        starts_on=starts_on,
        ends_on=add_months(starts_on, FUNDED_BUDGET_MONTHS) - timedelta(days=1),
    )
    audit.record(
        "contributions.budget.created",
        budget,
        actor=actor,
        venue_id=budget.venue_id,
        slug=budget.slug,
        project=project.pk,
        round=round_.pk,
    )
    add_source_locked(
        budget,
        name=_("Budget collectif %(name)s") % {"name": round_.name},
        kind=SourceKind.OTHER,
        amount=amount,
        committed_on=starts_on,
        funder=round_.funder,
        actor=actor,
    )
    return budget


def _result(round_: AllocationRound) -> RoundResult:
    proposals = list(round_.projects.select_related("budget"))
    funded = {p.project_id: p.funded_amount or ZERO for p in proposals}
    return RoundResult(
        round=round_,
        funded=funded,
        undistributed=round_.pot - sum(funded.values(), ZERO),
        budgets={p.project_id: p.budget for p in proposals if p.budget is not None},
    )


def close_round(*, round: AllocationRound, actor: Any = None) -> RoundResult:
    """After the closing date: fund the projects, give each funded one its budget, report the rest."""
    _ensure_manager(actor, round.network_id, round.venue_id)

    def write() -> RoundResult:
        locked = _lock(round)
        if locked.status == RoundStatus.CLOSED:
            return _result(locked)
        if locked.status != RoundStatus.OPEN:
            raise RoundNotOpen()
        if now() < locked.closes_at:
            raise Conflict(_("The round closes at its closing date, not before."), code="round_still_open")
        proposals = list(locked.projects.select_related("project").order_by("pk"))
        asks = [rules.Proposal(p.pk, p.minimum, p.maximum) for p in proposals]
        if locked.rule == AllocationRule.PARTICIPATORY:
            totals = dict(
                Allocation.objects.filter(round_project__round=locked)
                .values_list("round_project_id")
                .annotate(total=Sum("amount"))
                .order_by()
            )
            outcome = rules.participatory_outcome(locked.pot, asks, totals)
        else:
            hours = _validated_hours(locked, [p.project_id for p in proposals])
            outcome = rules.pro_rata_hours_outcome(
                locked.pot, asks, {p.pk: hours.get(p.project_id, ZERO) for p in proposals}
            )
        for proposal in proposals:
            amount = outcome.funded[proposal.pk]
            proposal.funded_amount = amount
            if amount > 0:
                proposal.budget = _fund(locked, proposal, amount, actor)
            proposal.save(update_fields=["funded_amount", "budget"])
        locked.status = RoundStatus.CLOSED
        locked.closed_at = now()
        locked.save(update_fields=["status", "closed_at"])
        audit.record(
            "contributions.round.closed",
            locked,
            actor=actor,
            venue_id=locked.venue_id,
            funded={str(p.project_id): str(outcome.funded[p.pk]) for p in proposals},
            undistributed=str(outcome.undistributed),
        )
        return _result(locked)

    return atomic_with_retry(write)
