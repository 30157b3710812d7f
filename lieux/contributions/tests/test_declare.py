"""Declaring a contribution: by the contributor, or by a steward for someone who then confirms; the rules
of a declaration; withdrawing it. A refused declaration writes nothing."""

from datetime import date
from decimal import Decimal

import pytest

from lieux.contributions.errors import (
    ContributionStateError,
    DeclarationInvalid,
    NotSteward,
    NotYourContribution,
    ProjectClosed,
    ProjectNotFound,
)
from lieux.contributions.errors_budgets import BudgetClosed, BudgetNotFound
from lieux.contributions.models import BudgetStatus, ContributionStatus, ProjectStatus
from lieux.contributions.rules import declarations as rules
from lieux.contributions.services.declare import (
    confirm_contribution,
    declare_contribution,
    decline_contribution,
    withdraw_contribution,
)
from lieux.core.models import AuditEvent
from tests import contributions_data as data
from tests.factories import NetworkFactory, VenueFactory

from .declare_data import counts

D = Decimal


def declare(actor, project, **fields):
    fields.setdefault("performed_on", date(2026, 2, 1))
    fields.setdefault("description", "Newsletter de février")
    return declare_contribution(actor=actor, project=project, **fields)


def test_a_person_declares_what_they_did_and_it_goes_to_review(member, garden, budget, shared):
    made = declare(member, garden, hours="1,5", amount_asked="60.50", budget=budget, activities=shared[:2])
    made.refresh_from_db()
    assert made.status == ContributionStatus.SUBMITTED
    assert (made.contributor, made.declared_by) == (member, member)
    assert (made.hours, made.amount_asked, made.amount_granted) == (D("1.50"), D("60.50"), None)
    assert {a.name for a in made.activities.all()} == {"Communication", "Animation"}
    event = AuditEvent.objects.get(action="contributions.contribution.declared")
    assert event.object_id == str(made.pk) and event.actor == member
    assert event.data["amount_asked"] == "60.50" and event.data["status"] == "submitted"


def test_a_steward_declares_for_someone_who_confirms_it(member, steward, garden, budget):
    made = declare(steward, garden, contributor=member, budget=budget, amount_asked=D(40))
    assert (made.status, made.contributor, made.declared_by) == ("awaiting", member, steward)
    with pytest.raises(NotYourContribution):
        confirm_contribution(contribution=made, actor=steward)
    confirmed = confirm_contribution(contribution=made, actor=member)
    assert confirmed.status == ContributionStatus.SUBMITTED
    assert AuditEvent.objects.filter(action="contributions.contribution.confirmed", actor=member).count() == 1
    with pytest.raises(ContributionStateError):
        confirm_contribution(contribution=made, actor=member)


def test_the_person_may_decline_what_a_steward_declared_for_them(member, steward, garden):
    made = declare(steward, garden, contributor=member)
    declined = decline_contribution(contribution=made, actor=member, reason="Ce n'était pas moi")
    assert declined.status == ContributionStatus.WITHDRAWN
    event = AuditEvent.objects.get(action="contributions.contribution.declined")
    assert event.data["reason"] == "Ce n'était pas moi"


def test_only_a_steward_declares_for_someone_else(member, other_member, garden, budget):
    before = counts()
    with pytest.raises(NotSteward):
        declare(other_member, garden, contributor=member)
    assert counts() == before


def test_activities_are_the_networks_shared_ones_or_the_budgets_own(member, network, garden, budget, shared):
    own = data.activities(network, "Fabrique", budget=budget)[0]
    other_budget = data.budget(network, "autre")
    elsewhere = data.activities(network, "Ailleurs", budget=other_budget)[0]
    made = declare(member, garden, budget=budget, activities=[shared[0], own])
    assert set(made.activities.all()) == {shared[0], own}
    before = counts()
    with pytest.raises(DeclarationInvalid) as refused:
        declare(member, garden, budget=budget, activities=[elsewhere])
    assert refused.value.code == "unknown_activity"
    with pytest.raises(DeclarationInvalid) as without_budget:
        declare(member, garden, activities=[own])
    assert without_budget.value.code == "unknown_activity"
    assert counts() == before


def test_the_budget_must_be_open_and_cover_the_project(member, network, venue, other_venue, garden, budget):
    for_another_project = data.budget(network, "pour-le-four", project=data.project(network, "four"))
    at_another_venue = data.budget(network, "baraka", venue=other_venue)
    network_wide = data.budget(network, "reseau")
    for candidate in (for_another_project, at_another_venue):
        with pytest.raises(DeclarationInvalid) as refused:
            declare(member, garden, budget=candidate, amount_asked="10")
        assert refused.value.code == "budget_not_for_project"
    assert declare(member, garden, budget=network_wide, amount_asked="10").budget == network_wide
    budget.status = BudgetStatus.CLOSED
    budget.save()
    before = counts()
    with pytest.raises(BudgetClosed):
        declare(member, garden, budget=budget, amount_asked="10")
    assert counts() == before


def test_a_budget_of_another_network_is_unknown(member, garden):
    foreign = data.budget(NetworkFactory(name="Autre", slug="autre"), "ailleurs")
    with pytest.raises(BudgetNotFound):
        declare(member, garden, budget=foreign)


def test_the_day_lies_in_the_budget_period_and_late_declarations_are_welcome_until_closing(
    member, network, venue, garden, clock
):
    winter = data.budget(network, "hiver", venue=venue, starts_on=date(2026, 1, 1), ends_on=date(2026, 3, 31))
    # Declared in June for the last days of a period that ended in March: accepted, the budget is open.
    assert declare(member, garden, budget=winter, performed_on=date(2026, 3, 31)).budget == winter
    for day, code in ((date(2025, 12, 31), "before_budget"), (date(2026, 4, 1), "after_budget")):
        with pytest.raises(DeclarationInvalid) as refused:
            declare(member, garden, budget=winter, performed_on=day)
        assert refused.value.code == code
        assert refused.value.extra["field"] == "performed_on"


def test_a_contribution_is_declared_once_done(member, garden, clock):
    assert declare(member, garden, performed_on=date(2026, 6, 15)).performed_on == date(2026, 6, 15)
    with pytest.raises(DeclarationInvalid) as refused:
        declare(member, garden, performed_on=date(2026, 6, 16))
    assert refused.value.code == "in_future"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"amount_asked": "60"}, "amount_needs_budget"),
        ({"hours": "0"}, "hours_not_positive"),
        ({"hours": "-2"}, "hours_not_positive"),
        ({"hours": "10000"}, "hours_too_many"),
        ({"hours": 1.5}, "invalid_hours"),
        ({"hours": "deux"}, "invalid_hours"),
        ({"description": "   "}, "missing_description"),
        ({"description": "nul\x00"}, "invalid_characters"),
        ({"kind": "bricolage"}, "invalid_kind"),
        ({"evidence_url": "javascript:alert(1)"}, "invalid_evidence"),
    ],
)
def test_bad_declarations_are_refused_and_write_nothing(member, garden, clock, fields, code):
    before = counts()
    with pytest.raises(DeclarationInvalid) as refused:
        declare(member, garden, **fields)
    assert refused.value.code == code
    assert refused.value.status == 422
    assert counts() == before


@pytest.mark.parametrize(
    ("amount", "code"), [("60,505", "invalid_amount"), ("-1", "amount_negative"), (60.5, "invalid_amount")]
)
def test_amounts_are_euros_and_cents(member, garden, budget, amount, code):
    with pytest.raises(DeclarationInvalid) as refused:
        declare(member, garden, budget=budget, amount_asked=amount)
    assert refused.value.code == code


def test_an_archived_project_takes_nothing_and_a_private_one_is_unknown_outside_its_network(
    member, stranger, network, garden, clock
):
    garden.status = ProjectStatus.ARCHIVED
    garden.save()
    with pytest.raises(ProjectClosed):
        declare(member, garden)
    private = data.project(network, "coulisses", is_public=False)
    with pytest.raises(ProjectNotFound):
        declare(stranger, private)
    assert declare(member, private).project == private
    public = data.project(network, "public")
    assert declare(stranger, public).contributor == stranger


def test_the_contributor_withdraws_until_it_is_decided(member, other_member, garden, budget):
    made = declare(member, garden, budget=budget, amount_asked="10")
    with pytest.raises(NotYourContribution):
        withdraw_contribution(contribution=made, actor=other_member)
    withdrawn = withdraw_contribution(contribution=made, actor=member, reason="Doublon")
    assert withdrawn.status == ContributionStatus.WITHDRAWN
    assert AuditEvent.objects.get(action="contributions.contribution.withdrawn").data["before"] == "submitted"
    decided = declare(member, garden)
    decided.status = ContributionStatus.VALIDATED
    decided.save()
    with pytest.raises(ContributionStateError):
        withdraw_contribution(contribution=decided, actor=member)


def test_the_declaring_steward_may_take_it_back_only_while_it_awaits_confirmation(member, steward, garden):
    made = declare(steward, garden, contributor=member)
    assert withdraw_contribution(contribution=made, actor=steward).status == ContributionStatus.WITHDRAWN
    confirmed = confirm_contribution(contribution=declare(steward, garden, contributor=member), actor=member)
    with pytest.raises(NotYourContribution):
        withdraw_contribution(contribution=confirmed, actor=steward)


def test_the_project_day_is_the_venues(member, network, clock, monkeypatch):
    # 23:30 in Paris on 15 June is still 15 June there but 21:30 UTC: the venue's day counts.
    from datetime import UTC, datetime

    from lieux.contributions.services import declare as module

    monkeypatch.setattr(module, "now", lambda: datetime(2026, 6, 15, 22, 30, tzinfo=UTC))
    far = VenueFactory(network=network, slug="loin", timezone="Pacific/Kiritimati")  # UTC+14
    faraway = data.project(network, "loin", venue=far)
    assert declare(member, faraway, performed_on=date(2026, 6, 16)).performed_on == date(2026, 6, 16)


def test_the_budget_rule_examples():
    facts = rules.BudgetFacts(date(2026, 1, 1), date(2026, 12, 31), False, None, 1)
    assert rules.covers(facts, project_id=5, project_venue_id=None)
    assert rules.covers(facts, project_id=5, project_venue_id=1)
    assert not rules.covers(facts, project_id=5, project_venue_id=2)
    assert rules.amount_problem(D("0"), has_budget=False) is None  # asking nothing needs no budget
