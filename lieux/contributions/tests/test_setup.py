"""Setting contributions up: the credit offered for payouts, a round while it is prepared and its proposed
projects, renaming and removing activities. Each change is audited; each refusal writes nothing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

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
    Contribution,
    CreditConversion,
    RoundParticipant,
    RoundProject,
)
from lieux.contributions.selectors import web as web_selectors
from lieux.contributions.services.payouts import pay_in_credit
from lieux.contributions.services.rounds import create_round, open_round, propose_project
from lieux.contributions.services.setup import (
    change_proposal,
    offer_credit,
    remove_activity,
    rename_activity,
    update_credit_offer,
    update_round,
    withdraw_proposal,
)
from lieux.core.errors import ValidationError
from lieux.core.models import AuditEvent
from lieux.core.time import now
from lieux.venues.models import Role
from tests import contributions_data as data
from tests.budget_data import fund, request, validated
from tests.credits_data import credit_type
from tests.factories import NetworkFactory, UserFactory, VenueFactory, add_role

D = Decimal


def audit_count(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


# --- Credit offered for payouts -------------------------------------------------------------------------


@pytest.fixture
def days(venue):
    return credit_type(venue, "coworking", "Coworking days")


@pytest.fixture
def baraka_days(other_venue):
    return credit_type(other_venue, "coworking", "Journées Baraka")


def test_a_venue_manager_offers_the_venue_credit_and_it_is_audited(network, manager, days):
    conversion = offer_credit(
        network=network, credit_type=days, euros_per_credit="15", validity_months=6, actor=manager
    )
    assert (conversion.euros_per_credit, conversion.validity_months, conversion.is_active) == (D(15), 6, True)
    event = AuditEvent.objects.get(action="contributions.conversion.created")
    assert event.actor == manager and event.venue_id == days.venue_id
    assert event.data["euros_per_credit"] == "15.00"


def test_only_those_who_run_the_venue_offer_its_credit(network, member, other_manager, days):
    for person in (member, other_manager):
        with pytest.raises(NotVenueManager):
            offer_credit(network=network, credit_type=days, euros_per_credit="15", actor=person)
    assert not CreditConversion.objects.exists() and not AuditEvent.objects.exists()


def test_a_network_admin_offers_the_credit_of_any_venue(network, days, baraka_days):
    admin = UserFactory(email="reseau@example.org")
    network.admins.add(admin)
    for kind in (days, baraka_days):
        offer_credit(network=network, credit_type=kind, euros_per_credit="12.50", actor=admin)
    assert CreditConversion.objects.filter(network=network).count() == 2


@pytest.mark.parametrize(
    ("rate", "months", "field"),
    [
        ("0", 12, "euros_per_credit"),
        ("-3", 12, "euros_per_credit"),
        ("1.234", 12, "euros_per_credit"),
        ("1000000", 12, "euros_per_credit"),
        ("douze", 12, "euros_per_credit"),
        ("15", 0, "validity_months"),
        ("15", 121, "validity_months"),
        ("15", True, "validity_months"),
    ],
)
def test_a_bad_rate_or_validity_names_its_field_and_writes_nothing(
    network, manager, days, rate, months, field
):
    with pytest.raises(ValidationError) as refused:
        offer_credit(
            network=network, credit_type=days, euros_per_credit=rate, validity_months=months, actor=manager
        )
    assert refused.value.extra["field"] == field
    assert not CreditConversion.objects.exists() and not AuditEvent.objects.exists()


def test_the_same_credit_is_offered_once(network, manager, days):
    offer_credit(network=network, credit_type=days, euros_per_credit="15", actor=manager)
    with pytest.raises(CreditAlreadyOffered):
        offer_credit(network=network, credit_type=days, euros_per_credit="20", actor=manager)
    assert CreditConversion.objects.get().euros_per_credit == D(15)


def test_a_credit_of_another_network_is_refused(network, days):
    elsewhere = NetworkFactory(name="Ailleurs", slug="ailleurs")
    with pytest.raises(ValidationError) as refused:
        offer_credit(network=elsewhere, credit_type=days, euros_per_credit="15")
    assert refused.value.extra["field"] == "credit_type"


def test_changing_an_offer_audits_what_changed_and_nothing_else(network, manager, days):
    conversion = offer_credit(network=network, credit_type=days, euros_per_credit="15", actor=manager)
    update_credit_offer(
        conversion=conversion, euros_per_credit="18", validity_months=12, is_active=True, actor=manager
    )
    event = AuditEvent.objects.get(action="contributions.conversion.updated")
    assert event.data["changes"] == {"euros_per_credit": ["15.00", "18.00"]}
    update_credit_offer(
        conversion=conversion, euros_per_credit="18.00", validity_months=12, is_active=True, actor=manager
    )
    assert audit_count("contributions.conversion.updated") == 1


def test_a_withdrawn_offer_can_no_longer_be_taken(network, venue, manager, member, days):
    conversion = offer_credit(network=network, credit_type=days, euros_per_credit="15", actor=manager)
    data.project(network, "jardin", venue=venue)
    budget = data.budget(network, venue=venue)
    fund(budget, "500", received="500")
    validated(budget, member, "60")
    update_credit_offer(
        conversion=conversion, euros_per_credit="15", validity_months=12, is_active=False, actor=manager
    )
    assert web_selectors.offered_conversions(budget) == []
    conversion.refresh_from_db()
    with pytest.raises(ValidationError):
        pay_in_credit(budget=budget, person=member, conversion=conversion, actor=member)


def test_another_venue_manager_cannot_change_an_offer(network, manager, other_manager, days):
    conversion = offer_credit(network=network, credit_type=days, euros_per_credit="15", actor=manager)
    with pytest.raises(NotVenueManager):
        update_credit_offer(
            conversion=conversion,
            euros_per_credit="1",
            validity_months=12,
            is_active=True,
            actor=other_manager,
        )
    conversion.refresh_from_db()
    assert conversion.euros_per_credit == D(15)


# --- A round in preparation -----------------------------------------------------------------------------


@pytest.fixture
def projects(network, venue):
    return [data.project(network, slug, venue=venue) for slug in ("jardin", "atelier-velo")]


@pytest.fixture
def spring(network, venue, manager, projects) -> AllocationRound:
    moment = now()
    round_ = create_round(
        network=network,
        venue=venue,
        slug="printemps",
        name="Budget collectif de printemps",
        pot="100",
        funder="Fondation de France",
        opens_at=moment - timedelta(days=1),
        closes_at=moment + timedelta(days=6),
        actor=manager,
    )
    for project in projects:
        propose_project(round=round_, project=project, minimum="10", maximum="60", actor=manager)
    return round_


def settings_of(round_: AllocationRound, **changes) -> dict:
    base = {
        "name": round_.name,
        "description": round_.description,
        "pot": round_.pot,
        "funder": round_.funder,
        "rule": round_.rule,
        "opens_at": round_.opens_at,
        "closes_at": round_.closes_at,
        "hours_from": round_.hours_from,
        "hours_until": round_.hours_until,
    }
    return base | changes


def test_a_round_in_preparation_changes_and_says_what_changed(spring, manager):
    update_round(round=spring, actor=manager, **settings_of(spring, pot="250", name="  Printemps 2026 "))
    spring.refresh_from_db()
    assert (spring.pot, spring.name) == (D(250), "Printemps 2026")
    event = AuditEvent.objects.get(action="contributions.round.updated")
    assert event.data["changes"] == {
        "pot": ["100.00", "250.00"],
        "name": ["Budget collectif de printemps", "Printemps 2026"],
    }


def test_the_pro_rata_rule_needs_its_hours_window_and_the_other_rule_drops_it(spring, manager):
    with pytest.raises(ValidationError) as refused:
        update_round(round=spring, actor=manager, **settings_of(spring, rule=AllocationRule.PRO_RATA_HOURS))
    assert refused.value.extra["field"] == "hours_from"
    window = {"hours_from": date(2026, 1, 1), "hours_until": date(2026, 3, 31)}
    update_round(
        round=spring, actor=manager, **settings_of(spring, rule=AllocationRule.PRO_RATA_HOURS, **window)
    )
    spring.refresh_from_db()
    assert spring.hours_until == date(2026, 3, 31)
    update_round(round=spring, actor=manager, **settings_of(spring, rule=AllocationRule.PARTICIPATORY))
    spring.refresh_from_db()
    assert (spring.hours_from, spring.hours_until) == (None, None)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": " "}, "name"),
        ({"funder": ""}, "funder"),
        ({"pot": "-5"}, "pot"),
        ({"pot": "12.345"}, "pot"),
        ({"rule": "lottery"}, "rule"),
        ({"closes_at": "opens"}, "closes_at"),
    ],
)
def test_bad_settings_name_their_field_and_change_nothing(spring, manager, changes, field):
    if changes.get("closes_at") == "opens":
        changes = {"closes_at": spring.opens_at}
    with pytest.raises(ValidationError) as refused:
        update_round(round=spring, actor=manager, **settings_of(spring, **changes))
    assert refused.value.extra["field"] == field
    assert audit_count("contributions.round.updated") == 0
    assert AllocationRound.objects.get(pk=spring.pk).pot == D(100)


def test_only_the_round_managers_change_it(spring, member, other_manager):
    for person in (member, other_manager):
        with pytest.raises(NotTreasurer):
            update_round(round=spring, actor=person, **settings_of(spring, pot="1"))
        with pytest.raises(NotTreasurer):
            withdraw_proposal(proposal=spring.projects.first(), actor=person)
    assert AllocationRound.objects.get(pk=spring.pk).pot == D(100) and spring.projects.count() == 2


def test_once_open_a_round_and_its_proposals_are_fixed(spring, manager, member):
    open_round(round=spring, actor=manager)
    proposal = spring.projects.order_by("pk").first()
    with pytest.raises(RoundNotInPreparation):
        update_round(round=spring, actor=manager, **settings_of(spring, pot="1000"))
    with pytest.raises(RoundNotInPreparation):
        change_proposal(proposal=proposal, minimum="0", maximum="100", actor=manager)
    with pytest.raises(RoundNotInPreparation):
        withdraw_proposal(proposal=proposal, actor=manager)
    spring.refresh_from_db()
    proposal.refresh_from_db()
    assert spring.pot == D(100) and (proposal.minimum, proposal.maximum) == (D(10), D(60))
    # The shares fixed at opening still add up to the pot.
    assert sum(RoundParticipant.objects.filter(round=spring).values_list("share", flat=True)) == D(100)


def test_a_proposal_changes_its_minimum_and_maximum_before_opening(spring, manager):
    proposal = spring.projects.order_by("pk").first()
    change_proposal(proposal=proposal, minimum="0", maximum="80", actor=manager)
    proposal.refresh_from_db()
    assert (proposal.minimum, proposal.maximum) == (D(0), D(80))
    event = AuditEvent.objects.get(action="contributions.round.proposal_changed")
    assert event.data["maximum"] == ["60.00", "80.00"]
    with pytest.raises(ValidationError) as refused:
        change_proposal(proposal=proposal, minimum="90", maximum="80", actor=manager)
    assert refused.value.extra["field"] == "maximum"
    proposal.refresh_from_db()
    assert proposal.minimum == D(0)


def test_a_withdrawn_proposal_leaves_its_audit_row_and_a_second_withdrawal_changes_nothing(spring, manager):
    proposal = spring.projects.order_by("pk").first()
    withdraw_proposal(proposal=proposal, actor=manager)
    withdraw_proposal(proposal=proposal, actor=manager)
    assert not RoundProject.objects.filter(pk=proposal.pk).exists()
    assert audit_count("contributions.round.project_withdrawn") == 1
    event = AuditEvent.objects.get(action="contributions.round.project_withdrawn")
    assert event.data["project"] == proposal.project_id


# --- Activities -----------------------------------------------------------------------------------------


# `steward` and `garden` (the steward's project at the venue) come from this directory's conftest.


@pytest.fixture
def garden_budget(network, venue, garden):
    return data.budget(network, "jardin-2026", venue=venue, project=garden)


def test_renaming_a_shared_activity_renames_it_on_every_contribution(
    network, manager, member, garden, garden_budget
):
    (typo,) = data.activities(network, "Comunication")
    contribution = request(garden_budget, member, "10")
    contribution.activities.add(typo)
    rename_activity(activity=typo, name="  Communication ", actor=manager)
    assert list(Contribution.objects.get(pk=contribution.pk).activities.values_list("name", flat=True)) == [
        "Communication"
    ]
    event = AuditEvent.objects.get(action="contributions.activity.renamed")
    assert (event.data["before"], event.data["after"], event.data["budget"]) == (
        "Comunication",
        "Communication",
        None,
    )


def test_a_name_taken_in_the_same_scope_is_refused_but_a_budget_may_reuse_a_shared_word(
    network, manager, garden_budget
):
    _communication, animation = data.activities(network, "Communication", "Animation")
    with pytest.raises(ActivityNameTaken):
        rename_activity(activity=animation, name="communication", actor=manager)
    (own,) = data.activities(network, "Affiches", budget=garden_budget)
    rename_activity(activity=own, name="Communication", actor=manager)
    assert Activity.objects.filter(name="Communication").count() == 2
    animation.refresh_from_db()
    assert animation.name == "Animation"


@pytest.mark.parametrize("name", ["", "Com, Animation", "Jardin : potager", "x" * 81])
def test_a_bad_activity_name_is_refused_on_its_field(network, manager, name):
    (activity,) = data.activities(network, "Jardin")
    with pytest.raises(ValidationError) as refused:
        rename_activity(activity=activity, name=name, actor=manager)
    assert refused.value.extra["field"] == "name"
    assert not AuditEvent.objects.exists()


def test_stewards_change_their_project_budget_activities_but_not_the_shared_ones(
    network, steward, member, garden_budget
):
    (shared,) = data.activities(network, "Communication")
    (own,) = data.activities(network, "Affiches", budget=garden_budget)
    rename_activity(activity=own, name="Affichage", actor=steward)
    with pytest.raises(NotProjectManager):
        rename_activity(activity=shared, name="Com", actor=steward)
    with pytest.raises(NotProjectManager):
        remove_activity(activity=own, actor=member)
    shared.refresh_from_db()
    assert shared.name == "Communication" and Activity.objects.filter(pk=own.pk).exists()


def test_an_activity_is_removed_only_while_no_contribution_names_it(network, manager, member, garden_budget):
    used, unused = data.activities(network, "Communication", "Animation")
    request(garden_budget, member, "10").activities.add(used)
    with pytest.raises(ActivityInUse):
        remove_activity(activity=used, actor=manager)
    remove_activity(activity=unused, actor=manager)
    assert list(Activity.objects.values_list("name", flat=True)) == ["Communication"]
    assert AuditEvent.objects.get(action="contributions.activity.removed").data["name"] == "Animation"


def test_a_manager_of_another_network_changes_no_activity(network):
    (activity,) = data.activities(network, "Communication")
    elsewhere = VenueFactory(network=NetworkFactory(name="Ailleurs", slug="ailleurs"))
    outsider = UserFactory(email="ailleurs@example.org")
    add_role(outsider, elsewhere, Role.MANAGER)
    with pytest.raises(NotProjectManager):
        rename_activity(activity=activity, name="Com", actor=outsider)
