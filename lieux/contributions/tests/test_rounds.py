"""Allocation rounds: equal shares, allocations within them, and the closing that funds projects."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lieux.contributions.errors_budgets import NotTreasurer, RoundNotOpen, ShareExceeded
from lieux.contributions.models import (
    Allocation,
    AllocationRound,
    AllocationRule,
    Budget,
    ContributionStatus,
    FundingSource,
    RoundParticipant,
    RoundStatus,
)
from lieux.contributions.rules import rounds as rules
from lieux.contributions.selectors import budgets as selectors
from lieux.contributions.services.rounds import (
    allocate,
    close_round,
    create_round,
    open_round,
    propose_project,
)
from lieux.core.errors import Conflict, Forbidden
from lieux.core.models import AuditEvent
from lieux.core.time import now
from tests import contributions_data as data
from tests import credits_data
from tests.budget_data import request
from tests.factories import UserFactory, add_role

D = Decimal


def make_round(
    network, *, venue=None, pot="100", rule=AllocationRule.PARTICIPATORY, **fields
) -> AllocationRound:
    moment = now()
    return create_round(
        network=network,
        venue=venue,
        slug=fields.pop("slug", "printemps"),
        name="Budget collectif de printemps",
        pot=pot,
        funder="Fondation de France",
        rule=rule,
        opens_at=moment - timedelta(days=1),
        closes_at=moment + timedelta(days=6),
        **fields,
    )


def end(round_: AllocationRound) -> None:
    """Move the round's dates into the past, as if its closing date had come."""
    moment = now()
    AllocationRound.objects.filter(pk=round_.pk).update(
        opens_at=moment - timedelta(days=8), closes_at=moment - timedelta(minutes=1)
    )


@pytest.fixture
def projects(network, venue):
    return [data.project(network, slug, venue=venue) for slug in ("jardin", "atelier-velo", "cafe")]


@pytest.fixture
def spring(network, venue, member, other_member, manager, projects):
    round_ = make_round(network, venue=venue)
    for project, low, high in zip(projects, ("20", "30", "0"), ("50", "80", "100"), strict=True):
        propose_project(round=round_, project=project, minimum=low, maximum=high)
    return open_round(round=round_)


def proposal(round_: AllocationRound, slug: str) -> int:
    return round_.projects.get(project__slug=slug).pk


def test_opening_gives_an_equal_share_to_everyone_with_a_live_role_or_subscription_here(
    network, venue, other_venue, member, other_member, manager, projects
):
    subscriber = UserFactory(email="abonnee@example.org")
    plan = credits_data.plan(venue)
    credits_data.subscription(plan, subscriber, date(2026, 11, 1), date(2026, 11, 30))
    lapsed = UserFactory(email="ancienne@example.org")
    credits_data.subscription(plan, lapsed, date(2026, 1, 1), date(2026, 1, 31), status="ended")
    elsewhere = UserFactory(email="baraka@example.org")
    add_role(elsewhere, other_venue)
    gone = UserFactory(email="partie@example.org", is_active=False)
    add_role(gone, venue)

    here = make_round(network, venue=venue)
    propose_project(round=here, project=projects[0], minimum="0", maximum="100")
    open_round(round=here)
    shares = dict(RoundParticipant.objects.filter(round=here).values_list("person_id", "share"))
    assert set(shares) == {member.pk, other_member.pk, manager.pk, subscriber.pk}
    assert sorted(shares.values()) == [D(25)] * 4

    everywhere = make_round(network, slug="reseau", pot="100")
    propose_project(round=everywhere, project=projects[0], minimum="0", maximum="100")
    open_round(round=everywhere)
    shares = dict(RoundParticipant.objects.filter(round=everywhere).values_list("person_id", "share"))
    assert set(shares) == {member.pk, other_member.pk, manager.pk, subscriber.pk, elsewhere.pk}
    assert sum(shares.values()) == D(100) and sorted(shares.values()) == [D(20)] * 5


def test_shares_that_do_not_divide_still_add_up_to_the_pot(
    network, venue, member, other_member, manager, projects
):
    round_ = make_round(network, venue=venue, pot="100")
    propose_project(round=round_, project=projects[0], minimum="0", maximum="100")
    open_round(round=round_)
    shares = list(
        RoundParticipant.objects.filter(round=round_).order_by("person_id").values_list("share", flat=True)
    )
    assert shares == [D("33.34"), D("33.33"), D("33.33")]


def test_a_participant_spreads_at_most_their_share_and_may_change_it_until_the_close(spring, member):
    garden, bikes = proposal(spring, "jardin"), proposal(spring, "atelier-velo")
    allocate(round=spring, person=member, amounts={garden: "20", bikes: "13.34"}, actor=member)
    with pytest.raises(ShareExceeded) as refused:
        allocate(round=spring, person=member, amounts={garden: "20.01"}, actor=member)
    assert refused.value.extra["share"] == "33.34"  # the first by id receives the cent that does not divide
    allocate(round=spring, person=member, amounts={bikes: "0", garden: "33.34"}, actor=member)
    mine = dict(
        Allocation.objects.filter(participant__person=member).values_list("round_project_id", "amount")
    )
    assert mine == {garden: D("33.34")}
    assert AuditEvent.objects.filter(action="contributions.round.allocated").count() == 2


def test_only_participants_allocate_their_own_share_while_the_round_is_open(
    spring, member, other_member, stranger
):
    garden = proposal(spring, "jardin")
    with pytest.raises(Forbidden):
        allocate(round=spring, person=member, amounts={garden: "1"}, actor=other_member)
    with pytest.raises(Forbidden) as outsider:
        allocate(round=spring, person=stranger, amounts={garden: "1"}, actor=stranger)
    assert outsider.value.code == "not_a_participant"
    end(spring)
    with pytest.raises(RoundNotOpen):
        allocate(round=spring, person=member, amounts={garden: "1"}, actor=member)
    assert not Allocation.objects.exists()


def test_closing_funds_projects_between_their_minimum_and_maximum_and_reports_the_rest(
    spring, member, other_member, manager
):
    garden, bikes, cafe = (proposal(spring, s) for s in ("jardin", "atelier-velo", "cafe"))
    allocate(round=spring, person=member, amounts={garden: "30", cafe: "3.33"}, actor=member)
    allocate(round=spring, person=other_member, amounts={garden: "30", bikes: "3.33"}, actor=other_member)
    allocate(round=spring, person=manager, amounts={bikes: "16.67", cafe: "6.67"}, actor=manager)
    with pytest.raises(Conflict) as early:
        close_round(round=spring)
    assert early.value.code == "round_still_open"
    with pytest.raises(NotTreasurer):
        close_round(round=spring, actor=member)
    end(spring)
    result = close_round(round=spring, actor=manager)
    by_slug = {p.project.slug: p for p in spring.projects.select_related("project")}
    # The garden gets its maximum (60 > 50); the bikes stay under their minimum (20 < 30); the café gets 10.
    assert {slug: p.funded_amount for slug, p in by_slug.items()} == {
        "jardin": D(50),
        "atelier-velo": D(0),
        "cafe": D(10),
    }
    assert result.undistributed == D(40)
    budget = by_slug["jardin"].budget
    assert (
        budget is not None
        and budget.project == by_slug["jardin"].project
        and by_slug["atelier-velo"].budget is None
    )
    source = FundingSource.objects.get(budget=budget)
    assert (source.name, source.amount, source.funder) == (
        "Budget collectif Budget collectif de printemps",
        D(50),
        "Fondation de France",
    )
    assert selectors.budget_figures(budget).remaining == D(50)
    spring.refresh_from_db()
    assert spring.status == RoundStatus.CLOSED
    event = AuditEvent.objects.get(action="contributions.round.closed")
    assert event.data["undistributed"] == "40.00"
    # Closing again creates nothing more.
    assert close_round(round=spring).undistributed == D(40)
    assert Budget.objects.filter(project__isnull=False).count() == 2


def test_pro_rata_hours_shares_the_pot_by_validated_hours_in_the_window(network, venue, member, projects):
    garden, bikes, cafe = projects
    counted = data.budget(network, "compteur", venue=venue)
    for project, hours, status, day in [
        (garden, "30", ContributionStatus.VALIDATED, date(2026, 3, 1)),
        (bikes, "6", ContributionStatus.PAID, date(2026, 3, 2)),
        (bikes, "4", ContributionStatus.VALIDATED, date(2026, 4, 30)),
        (bikes, "50", ContributionStatus.SUBMITTED, date(2026, 3, 2)),  # not validated
        (cafe, "50", ContributionStatus.VALIDATED, date(2025, 12, 31)),  # before the window
    ]:
        request(counted, member, "0", project=project, status=status, hours=hours, performed_on=day)
    round_ = make_round(
        network,
        venue=venue,
        pot="1000",
        rule=AllocationRule.PRO_RATA_HOURS,
        hours_from=date(2026, 1, 1),
        hours_until=date(2026, 6, 30),
    )
    for project, low, high in [(garden, "0", "600"), (bikes, "300", "1000"), (cafe, "0", "1000")]:
        propose_project(round=round_, project=project, minimum=low, maximum=high)
    open_round(round=round_)
    assert not RoundParticipant.objects.exists()
    end(round_)
    result = close_round(round=round_)
    # 40 hours: the garden's 30 are worth 750 €, capped at 600; the bikes' 10 are worth 250 €, under 300.
    assert result.funded == {garden.pk: D(600), bikes.pk: D(0), cafe.pk: D(0)}
    assert result.undistributed == D(400)


# The arithmetic ----------------------------------------------------------------------------------------

money = st.integers(0, 1_000_000).map(lambda c: D(c) / 100)


@given(pot=money, count=st.integers(1, 500))
def test_equal_shares_add_up_to_the_pot_and_differ_by_a_cent_at_most(pot, count):
    shares = rules.equal_shares(pot, count)
    assert len(shares) == count and sum(shares) == pot
    assert max(shares) - min(shares) <= D("0.01")


proposals = st.lists(st.tuples(money, money).map(lambda t: (min(t), max(t))), min_size=1, max_size=8).map(
    lambda pairs: [rules.Proposal(i, low, high) for i, (low, high) in enumerate(pairs)]
)


@given(pot=money, asks=proposals, data=st.data())
def test_a_participatory_outcome_respects_minimums_maximums_and_the_pot(pot, asks, data):
    shares = rules.equal_shares(pot, data.draw(st.integers(1, 6)))
    allocated: dict[int, Decimal] = {}
    for share in shares:
        spread = data.draw(st.lists(st.integers(0, 100), min_size=len(asks), max_size=len(asks)))
        if not any(spread):
            continue
        parts = rules.split_cents(share, dict(enumerate(D(s) for s in spread)))
        assert rules.allocation_fits(share, list(parts.values()))
        for index, amount in parts.items():
            allocated[asks[index].id] = allocated.get(asks[index].id, D(0)) + amount
    outcome = rules.participatory_outcome(pot, asks, allocated)
    for ask in asks:
        funded = outcome.funded[ask.id]
        assert funded == 0 or ask.minimum <= funded <= ask.maximum
        assert funded <= allocated.get(ask.id, D(0))
    assert outcome.undistributed == pot - sum(outcome.funded.values()) and outcome.undistributed >= 0


@given(pot=money, asks=proposals, hours=st.lists(st.integers(0, 500), min_size=8, max_size=8))
def test_a_pro_rata_hours_outcome_never_gives_more_than_the_pot_nor_outside_the_bounds(pot, asks, hours):
    outcome = rules.pro_rata_hours_outcome(pot, asks, {a.id: D(h) for a, h in zip(asks, hours, strict=False)})
    assert outcome.undistributed >= 0 and sum(outcome.funded.values()) + outcome.undistributed == pot
    for ask in asks:
        funded = outcome.funded[ask.id]
        assert funded == 0 or ask.minimum <= funded <= ask.maximum
