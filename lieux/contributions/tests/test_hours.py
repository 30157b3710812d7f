"""The hours tallies of the public pages: what a validation adds (to its project's and its budget's rows),
what a refusal or a payment leaves alone, and that adding contributions one validation at a time gives the
same rows as recounting them all."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lieux.contributions.models import ActivityHours, ContributorProfile, PersonHours, Scope
from lieux.contributions.rules import hours as rules
from lieux.contributions.selectors import web as web_selectors
from lieux.contributions.services import hours as hours_services
from lieux.contributions.services.declare import declare_contribution
from lieux.contributions.services.hours import recount, stored
from lieux.contributions.services.review import review_contribution

D = Decimal


def counted(project=1, budget=None, person=7, day=date(2026, 3, 9), hours="2", activities=()):
    return rules.Counted(project, budget, person, day, None if hours is None else D(hours), list(activities))


# --- The rule --------------------------------------------------------------------------------------------


def test_hours_are_shared_between_activities_in_key_order_to_the_hundredth():
    assert rules.hour_shares(D("1"), [9, 4, 4, 7]) == [(4, D("0.34")), (7, D("0.33")), (9, D("0.33"))]
    assert rules.hour_shares(D("2.5"), []) == [(rules.NO_ACTIVITY, D("2.5"))]


def test_a_contribution_counts_on_its_project_and_on_its_budget():
    found = rules.tally([counted(project=3, budget=5, hours="1.5", activities=[8])])
    march = date(2026, 3, 1)
    assert found.activities == {("project", 3, march, 8): D("1.5"), ("budget", 5, march, 8): D("1.5")}
    assert found.people == {("project", 3, 7): (D("1.5"), 1), ("budget", 5, 7): (D("1.5"), 1)}


def test_a_contribution_without_hours_counts_for_its_person_only():
    found = rules.tally([counted(hours=None, activities=[8])])
    assert found.activities == {} and found.people == {("project", 1, 7): (D(0), 1)}


contributions = st.lists(
    st.builds(
        counted,
        project=st.integers(1, 3),
        budget=st.none() | st.integers(1, 2),
        person=st.integers(1, 4),
        day=st.dates(date(2026, 1, 1), date(2026, 12, 31)),
        hours=st.none() | st.decimals("0.01", "40", places=2).map(str),
        activities=st.lists(st.integers(1, 5), max_size=4),
    ),
    max_size=30,
)


@given(contributions)
def test_one_at_a_time_adds_up_to_all_at_once(found):
    """What count_validated adds, validation after validation, is what a rebuild writes."""
    added_activities: dict = {}
    added_people: dict = {}
    for contribution in found:
        one = rules.tally([contribution])
        for key, hours in one.activities.items():
            added_activities[key] = added_activities.get(key, D(0)) + hours
        for key, (hours, count) in one.people.items():
            before = added_people.get(key, (D(0), 0))
            added_people[key] = (before[0] + hours, before[1] + count)
    at_once = rules.tally(found)
    assert (added_activities, added_people) == (at_once.activities, at_once.people)
    # And no hour is lost or made up in the sharing.
    for scope, scope_id in {s for c in found for s in rules.scopes(c)}:
        inside = [c for c in found if (scope, scope_id) in rules.scopes(c)]
        shared = sum((h for k, h in at_once.activities.items() if k[:2] == (scope, scope_id)), D(0))
        assert shared == sum((c.hours or D(0) for c in inside), D(0))


# --- Kept by the validation --------------------------------------------------------------------------------


def declare(person, project, budget=None, hours="2", activities=(), amount=None, day=date(2026, 2, 1)):
    return declare_contribution(
        actor=person,
        project=project,
        performed_on=day,
        description="Désherbage",
        hours=hours,
        activities=activities,
        budget=budget,
        amount_asked=amount,
    )


@pytest.mark.django_db
def test_validations_add_to_the_tallies_and_nothing_else_does(member, steward, garden, budget, shared):
    communication, animation, jardin = shared
    first = declare(member, garden, budget, hours="3", activities=[jardin, animation], amount="30")
    second = declare(member, garden, hours="1.5", day=date(2026, 3, 4))
    refused = declare(member, garden, hours="9", activities=[communication])
    declare(member, garden, hours="4")  # never reviewed
    assert not ActivityHours.objects.exists() and not PersonHours.objects.exists()

    for contribution in (first, second):
        review_contribution(contribution=contribution, reviewer=steward, verdict="validate")
    review_contribution(contribution=refused, reviewer=steward, verdict="refuse", message="Hors projet")

    project = stored(Scope.PROJECT, garden.pk)
    assert project.people == {("project", garden.pk, member.pk): (D("4.5"), 2)}
    assert project.activities == {
        ("project", garden.pk, date(2026, 2, 1), min(jardin.pk, animation.pk)): D("1.5"),
        ("project", garden.pk, date(2026, 2, 1), max(jardin.pk, animation.pk)): D("1.5"),
        ("project", garden.pk, date(2026, 3, 1), rules.NO_ACTIVITY): D("1.5"),
    }
    assert stored(Scope.BUDGET, budget.pk).people == {("budget", budget.pk, member.pk): (D("3"), 1)}
    for scope, scope_id in ((Scope.PROJECT, garden.pk), (Scope.BUDGET, budget.pk)):
        assert stored(scope, scope_id) == recount(scope, scope_id)

    months = web_selectors.hours_by_activity_and_month(Scope.PROJECT, garden.pk)
    assert months.months == [date(2026, 2, 1), date(2026, 3, 1)]
    assert months.hours[(date(2026, 2, 1), "Jardin")] == D("1.5")
    assert months.hours[(date(2026, 3, 1), "")] == D("1.5")


@pytest.mark.django_db
def test_a_rebuild_gives_back_the_rows_the_validations_wrote(
    member, other_member, steward, garden, budget, shared
):
    for person, hours in ((member, "2"), (other_member, "1.25"), (member, "0.5")):
        contribution = declare(person, garden, budget, hours=hours, activities=shared[:2], amount="10")
        review_contribution(contribution=contribution, reviewer=steward, verdict="validate")
    scopes = [(Scope.PROJECT, garden.pk), (Scope.BUDGET, budget.pk)]
    written = {scope: stored(*scope) for scope in scopes}
    ActivityHours.objects.update(hours=D("99"))
    PersonHours.objects.all().delete()
    assert hours_services.rebuild(scopes) == sum(len(t.activities) + len(t.people) for t in written.values())
    assert {scope: stored(*scope) for scope in scopes} == written


@pytest.mark.django_db
def test_public_people_come_from_the_tally_as_they_agreed(member, other_member, steward, garden, network):
    ContributorProfile.objects.create(person=other_member, visibility="pseudonym", pseudonym="Colibri")
    for person in (member, other_member):
        review_contribution(
            contribution=declare(person, garden, hours="2"), reviewer=steward, verdict="validate"
        )
    people = web_selectors.public_people(Scope.PROJECT, garden.pk)
    assert [(p.label, p.hours, p.contributions) for p in people.shown] == [("Colibri", D("2"), 1)]
    assert (people.anonymous_people, people.anonymous_hours, people.anonymous_contributions) == (1, D("2"), 1)
