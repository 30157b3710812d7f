"""The managers' set-up pages of contributions through the Django test client: a budget created and its
rules changed, the credit offered for payouts, a round prepared and its projects proposed, activities added,
renamed and removed. Each page is a 404 for those who cannot read what it is about and a 403 for those who
read it but may not change it; a valid post goes through the service (its audit row is there); bad input
comes back with status 422 and the error on its field, and writes nothing.

Dates are relative to today, so that the periods hold whatever day the tests run."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lieux.contributions.models import (
    Activity,
    AllocationRound,
    AllocationRule,
    Budget,
    BudgetStatus,
    CreditConversion,
    RoundProject,
    RoundStatus,
)
from lieux.contributions.services.rounds import create_round, open_round, propose_project
from lieux.core.models import AuditEvent
from lieux.core.time import now
from tests import contributions_data as data
from tests.budget_data import request
from tests.credits_data import credit_type
from tests.factories import UserFactory, add_role
from tests.web.conftest import client_for

D = Decimal
TODAY = timezone.localdate()
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def steward(venue):
    person = UserFactory(email="soucieux@example.org", first_name="Robin")
    add_role(person, venue)
    return person


@pytest.fixture
def garden(network, venue, steward):
    return data.project(network, "jardin", venue=venue, stewards=[steward], title="Jardin partagé")


@pytest.fixture
def budget(network, venue, garden):
    return data.budget(
        network,
        "jardin-2026",
        venue=venue,
        project=garden,
        name="Jardin 2026",
        starts_on=TODAY - timedelta(days=30),
        ends_on=TODAY + timedelta(days=300),
    )


@pytest.fixture
def as_steward(steward) -> Client:
    return client_for(steward)


@pytest.fixture
def as_stranger(stranger) -> Client:
    return client_for(stranger)


def html(response) -> str:
    return response.content.decode()


def writes() -> tuple[int, int, int, int]:
    """What the set-up pages could write: an audit row always goes with a change."""
    return (
        AuditEvent.objects.count(),
        Budget.objects.count(),
        AllocationRound.objects.count(),
        CreditConversion.objects.count(),
    )


# --- Budgets --------------------------------------------------------------------------------------------


def budget_post(**changes) -> dict:
    return {
        "name": "Fabrique de Territoire 2026",
        "slug": "fabrique-2026",
        "description": "",
        "venue": "",
        "project": "",
        "starts_on": TODAY.isoformat(),
        "ends_on": (TODAY + timedelta(days=365)).isoformat(),
        "validators": "managers",
        "validations_required": "2",
        "overrun": "refuse",
        "hourly_value": "25",
        "is_public": "on",
    } | changes


def test_only_those_who_run_a_venue_reach_the_new_budget_form(as_member, as_stranger, as_manager):
    url = reverse("web:contribution_budget_new")
    assert as_member.get(url).status_code == 404
    assert as_stranger.get(url).status_code == 404
    assert as_member.post(url, budget_post()).status_code == 404
    page = as_manager.get(url)
    assert page.status_code == 200
    body = html(page)
    assert "<legend>Review rules</legend>" in body
    assert '<label for="id_slug"' in body
    assert not Budget.objects.exists()


def test_a_manager_creates_a_budget_through_the_service(as_manager, manager, venue):
    response = as_manager.post(reverse("web:contribution_budget_new"), budget_post(venue=str(venue.pk)))
    budget = Budget.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "web:contribution_budget", args=[budget.pk]
    )
    assert (budget.venue, budget.validators, budget.validations_required, budget.overrun) == (
        venue,
        "managers",
        2,
        "refuse",
    )
    assert budget.hourly_value == D("25.00") and budget.status == BudgetStatus.OPEN
    event = AuditEvent.objects.get(action="contributions.budget.created")
    assert event.actor == manager and event.data["slug"] == "fabrique-2026"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"slug": "pas un slug"}, "slug"),
        ({"ends_on": (TODAY - timedelta(days=1)).isoformat()}, "ends_on"),
        ({"validations_required": "0"}, "validations_required"),
        ({"validations_required": "21"}, "validations_required"),
        ({"overrun": "explode"}, "overrun"),
        ({"hourly_value": "-1"}, "hourly_value"),
        ({"hourly_value": "12.345"}, "hourly_value"),
    ],
)
def test_bad_input_on_a_new_budget_is_a_field_error_and_writes_nothing(as_manager, changes, field):
    before = writes()
    response = as_manager.post(reverse("web:contribution_budget_new"), budget_post(**changes))
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert writes() == before


def test_a_venue_the_manager_does_not_run_is_not_a_choice(as_manager, other_venue):
    response = as_manager.post(reverse("web:contribution_budget_new"), budget_post(venue=str(other_venue.pk)))
    assert response.status_code == 422 and "venue" in response.context["form"].errors
    assert not Budget.objects.exists()


def test_a_short_name_taken_is_refused_on_its_field(as_manager, budget):
    before = writes()
    response = as_manager.post(reverse("web:contribution_budget_new"), budget_post(slug=budget.slug))
    assert response.status_code == 409
    assert "slug" in response.context["form"].errors
    assert writes() == before


def test_the_new_budget_form_opened_from_a_project_chooses_it(as_manager, garden, venue):
    page = as_manager.get(reverse("web:contribution_budget_new") + f"?projet={garden.pk}")
    form = page.context["form"]
    assert (form.initial["project"], form.initial["venue"]) == (garden.pk, venue.pk)
    project_page = html(as_manager.get(reverse("web:contribution_project", args=[garden.pk])))
    assert reverse("web:contribution_budget_new") + f"?projet={garden.pk}" in project_page


def test_a_budget_s_rules_change_for_its_managers_only(as_manager, as_member, as_stranger, manager, budget):
    url = reverse("web:contribution_budget_edit", args=[budget.pk])
    assert as_stranger.get(url).status_code == 404
    refused = as_member.post(url, budget_post(validations_required="3"))
    assert refused.status_code == 403
    page = as_manager.get(url)
    assert page.status_code == 200 and page.context["form"].initial["name"] == "Jardin 2026"
    assert "slug" not in page.context["form"].fields  # the short name and the venue do not move
    response = as_manager.post(url, budget_post(name="Jardin 2026 (bis)", validations_required="3"))
    assert response.status_code == 302
    budget.refresh_from_db()
    assert (budget.name, budget.validations_required, budget.overrun) == ("Jardin 2026 (bis)", 3, "refuse")
    event = AuditEvent.objects.get(action="contributions.budget.updated")
    assert event.actor == manager and event.data["changes"]["validations_required"] == ["1", "3"]


def test_bad_rules_are_a_field_error_and_change_nothing(as_manager, budget):
    before = writes()
    response = as_manager.post(
        reverse("web:contribution_budget_edit", args=[budget.pk]),
        budget_post(validations_required="0", name="Autre nom"),
    )
    assert response.status_code == 422 and "validations_required" in response.context["form"].errors
    assert writes() == before
    budget.refresh_from_db()
    assert budget.name == "Jardin 2026"


def test_a_closed_budget_s_rules_no_longer_change(as_manager, budget):
    Budget.objects.filter(pk=budget.pk).update(status=BudgetStatus.CLOSED)
    url = reverse("web:contribution_budget_edit", args=[budget.pk])
    assert "This budget is closed: its rules no longer change." in html(as_manager.get(url))
    response = as_manager.post(url, budget_post(name="Autre nom"))
    assert response.status_code == 409
    budget.refresh_from_db()
    assert budget.name == "Jardin 2026" and not AuditEvent.objects.exists()


def test_the_budget_pages_link_to_the_set_up_for_managers_only(as_manager, as_member, budget):
    rules = reverse("web:contribution_budget_edit", args=[budget.pk])
    own = reverse("web:contribution_budget_activities", args=[budget.pk])
    page = html(as_manager.get(reverse("web:contribution_budget", args=[budget.pk])))
    assert rules in page and own in page
    page = html(as_member.get(reverse("web:contribution_budget", args=[budget.pk])))
    assert rules not in page and own not in page
    listing = html(as_manager.get(reverse("web:contribution_budgets")))
    for name in ("contribution_budget_new", "contribution_credit_offers", "contribution_shared_activities"):
        assert reverse(f"web:{name}") in listing
    assert reverse("web:contribution_budget_new") not in html(
        as_member.get(reverse("web:contribution_budgets"))
    )


# --- Activities -----------------------------------------------------------------------------------------


def test_the_shared_activities_are_for_those_who_run_a_venue(as_member, as_stranger, as_manager, network):
    url = reverse("web:contribution_shared_activities")
    assert as_member.get(url).status_code == 404
    assert as_stranger.post(url, {"action": "add", "new-name": "Jardin"}).status_code == 404
    assert as_manager.get(url).status_code == 200
    response = as_manager.post(url, {"action": "add", "new-name": "  Communication "})
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.name, activity.budget) == ("Communication", None)
    assert AuditEvent.objects.filter(action="contributions.activity.created").count() == 1


def test_a_bad_activity_name_is_a_field_error_and_adds_nothing(as_manager):
    response = as_manager.post(
        reverse("web:contribution_shared_activities"), {"action": "add", "new-name": "Com, Animation"}
    )
    assert response.status_code == 422
    assert "name" in response.context["add_form"].errors
    assert 'aria-invalid="true"' in html(response)
    assert not Activity.objects.exists() and not AuditEvent.objects.exists()


def test_an_activity_is_renamed_and_a_taken_name_is_refused_on_its_row(as_manager, network):
    typo, animation = data.activities(network, "Comunication", "Animation")
    url = reverse("web:contribution_shared_activities")
    response = as_manager.post(
        url, {"action": "rename", "activity": typo.pk, f"a{typo.pk}-name": "Communication"}
    )
    assert response.status_code == 302
    typo.refresh_from_db()
    assert typo.name == "Communication"
    clash = as_manager.post(
        url, {"action": "rename", "activity": animation.pk, f"a{animation.pk}-name": "communication"}
    )
    assert clash.status_code == 409
    row_form = next(form for activity, form, _error in clash.context["rows"] if activity.pk == animation.pk)
    assert "name" in row_form.errors
    animation.refresh_from_db()
    assert animation.name == "Animation"
    assert AuditEvent.objects.filter(action="contributions.activity.renamed").count() == 1


def test_an_activity_in_use_is_not_removed(as_manager, member, network, budget):
    used, unused = data.activities(network, "Communication", "Animation")
    request(budget, member, "10").activities.add(used)
    url = reverse("web:contribution_shared_activities")
    refused = as_manager.post(url, {"action": "remove", "activity": used.pk})
    assert refused.status_code == 409 and "rename it rather than remove it" in html(refused)
    assert as_manager.post(url, {"action": "remove", "activity": unused.pk}).status_code == 302
    assert list(Activity.objects.values_list("name", flat=True)) == ["Communication"]


def test_an_activity_of_another_scope_is_not_found_here(as_manager, network, budget):
    (own,) = data.activities(network, "Affiches", budget=budget)
    response = as_manager.post(
        reverse("web:contribution_shared_activities"),
        {"action": "rename", "activity": own.pk, f"a{own.pk}-name": "Autre"},
    )
    assert response.status_code == 404
    own.refresh_from_db()
    assert own.name == "Affiches"


def test_a_steward_changes_the_activities_of_their_project_budget(
    as_steward, as_member, as_stranger, network, garden, budget
):
    url = reverse("web:contribution_budget_activities", args=[budget.pk])
    assert as_stranger.get(url).status_code == 404
    assert as_member.get(url).status_code == 403
    assert as_member.post(url, {"action": "add", "new-name": "Potager"}).status_code == 403
    assert as_steward.post(url, {"action": "add", "new-name": "Potager"}).status_code == 302
    assert list(budget.own_activities.values_list("name", flat=True)) == ["Potager"]
    project_page = html(as_steward.get(reverse("web:contribution_project", args=[garden.pk])))
    assert url in project_page


# --- Credit offered for payouts -------------------------------------------------------------------------


@pytest.fixture
def days(venue):
    return credit_type(venue, "coworking", "Journées de coworking")


@pytest.fixture
def baraka_days(other_venue):
    return credit_type(other_venue, "coworking", "Journées à Baraka")


def test_a_manager_offers_their_venue_s_credit(as_manager, as_member, manager, days, baraka_days):
    url = reverse("web:contribution_credit_offers")
    assert as_member.get(url).status_code == 404
    page = as_manager.get(url)
    assert list(page.context["form"].fields["credit_type"].queryset) == [days]  # not Baraka's
    response = as_manager.post(
        url, {"credit_type": days.pk, "euros_per_credit": "15", "validity_months": "6"}
    )
    assert response.status_code == 302
    conversion = CreditConversion.objects.get()
    assert (conversion.credit_type, conversion.euros_per_credit, conversion.validity_months) == (
        days,
        D(15),
        6,
    )
    assert AuditEvent.objects.get(action="contributions.conversion.created").actor == manager


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"euros_per_credit": "0"}, "euros_per_credit"),
        ({"euros_per_credit": "abc"}, "euros_per_credit"),
        ({"validity_months": "0"}, "validity_months"),
        ({"credit_type": "other"}, "credit_type"),
    ],
)
def test_a_bad_credit_offer_is_a_field_error_and_writes_nothing(as_manager, days, baraka_days, fields, field):
    post = {"credit_type": days.pk, "euros_per_credit": "15", "validity_months": "12"} | fields
    if post["credit_type"] == "other":
        post["credit_type"] = baraka_days.pk  # another venue's credit: not a choice here
    response = as_manager.post(reverse("web:contribution_credit_offers"), post)
    assert response.status_code == 422 and field in response.context["form"].errors
    assert not CreditConversion.objects.exists() and not AuditEvent.objects.exists()


def test_an_offer_is_changed_or_withdrawn_by_the_venue_s_managers_only(
    as_manager, as_other_manager, network, days
):
    conversion = CreditConversion.objects.create(network=network, credit_type=days, euros_per_credit=D(15))
    url = reverse("web:contribution_credit_offer", args=[conversion.pk])
    listing = as_other_manager.get(reverse("web:contribution_credit_offers"))
    assert listing.context["offers"] == [(conversion, False)] and url not in html(listing)
    assert as_other_manager.post(url, {"euros_per_credit": "1", "validity_months": "12"}).status_code == 403
    bad = as_manager.post(url, {"euros_per_credit": "-2", "validity_months": "12", "is_active": "on"})
    assert bad.status_code == 422 and "euros_per_credit" in bad.context["form"].errors
    conversion.refresh_from_db()
    assert conversion.euros_per_credit == D(15) and not AuditEvent.objects.exists()
    withdrawn = as_manager.post(url, {"euros_per_credit": "15", "validity_months": "12"})
    assert withdrawn.status_code == 302
    conversion.refresh_from_db()
    assert conversion.is_active is False
    assert AuditEvent.objects.get(action="contributions.conversion.updated").data["changes"] == {
        "is_active": ["True", "False"]
    }


# --- Allocation rounds ----------------------------------------------------------------------------------


def wall(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


def round_post(**changes) -> dict:
    opens = now() + timedelta(days=1)
    return {
        "name": "Budget collectif de printemps",
        "slug": "printemps",
        "venue": "",
        "description": "",
        "pot": "1200",
        "funder": "Fondation de France",
        "rule": AllocationRule.PARTICIPATORY,
        "opens_at": wall(opens),
        "closes_at": wall(opens + timedelta(days=14)),
        "hours_from": "",
        "hours_until": "",
    } | changes


@pytest.fixture
def spring(network, venue, garden) -> AllocationRound:
    moment = now().replace(second=0, microsecond=0)  # what a form's minutes can say again
    round_ = create_round(
        network=network,
        venue=venue,
        slug="printemps",
        name="Printemps",
        pot="100",
        funder="Fondation de France",
        opens_at=moment - timedelta(days=1),
        closes_at=moment + timedelta(days=6),
    )
    propose_project(round=round_, project=garden, minimum="10", maximum="60")
    return round_


def test_a_manager_prepares_a_round_read_in_the_venue_s_time(as_manager, as_member, manager, venue):
    url = reverse("web:allocation_round_new")
    assert as_member.get(url).status_code == 404
    assert as_manager.get(url).status_code == 200
    response = as_manager.post(
        url, round_post(venue=str(venue.pk), opens_at="2031-03-01T09:00", closes_at="2031-03-15T18:30")
    )
    round_ = AllocationRound.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:allocation_round_projects", args=[round_.pk])
    assert round_.opens_at == datetime(2031, 3, 1, 9, 0, tzinfo=PARIS)
    assert round_.closes_at == datetime(2031, 3, 15, 18, 30, tzinfo=PARIS)
    assert (round_.pot, round_.status, round_.venue) == (D(1200), RoundStatus.DRAFT, venue)
    assert AuditEvent.objects.get(action="contributions.round.created").actor == manager


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"name": ""}, {"name"}),
        ({"pot": "-1"}, {"pot"}),
        ({"funder": ""}, {"funder"}),
        ({"closes_at": "2020-01-01T10:00"}, {"closes_at"}),
        ({"opens_at": "demain"}, {"opens_at"}),
        ({"rule": AllocationRule.PRO_RATA_HOURS}, {"hours_from", "hours_until"}),
        (
            {"rule": AllocationRule.PRO_RATA_HOURS, "hours_from": "2026-06-01", "hours_until": "2026-01-01"},
            {"hours_until"},
        ),
        ({"opens_at": "2031-03-30T02:30"}, {"opens_at"}),  # the clocks go forward in Paris
    ],
)
def test_bad_input_on_a_new_round_is_a_field_error_and_writes_nothing(as_manager, changes, fields):
    before = writes()
    response = as_manager.post(reverse("web:allocation_round_new"), round_post(**changes))
    assert response.status_code == 422
    assert fields <= set(response.context["form"].errors)
    assert writes() == before


def test_a_round_short_name_taken_is_refused_on_its_field(as_manager, spring):
    before = writes()
    response = as_manager.post(reverse("web:allocation_round_new"), round_post(slug="printemps"))
    assert response.status_code == 409 and "slug" in response.context["form"].errors
    assert writes() == before


def test_a_round_in_preparation_changes_and_once_open_is_fixed(
    as_manager, as_member, manager, member, spring
):
    url = reverse("web:allocation_round_edit", args=[spring.pk])
    assert as_member.get(url).status_code == 404  # in preparation: its managers only
    page = as_manager.get(url)
    assert page.status_code == 200 and page.context["form"].initial["pot"] == D(100)
    saved = as_manager.post(
        url,
        round_post(
            name="Printemps", pot="150", opens_at=wall(spring.opens_at), closes_at=wall(spring.closes_at)
        ),
    )
    assert saved.status_code == 302
    spring.refresh_from_db()
    assert spring.pot == D(150)
    assert AuditEvent.objects.get(action="contributions.round.updated").data["changes"] == {
        "pot": ["100.00", "150.00"]
    }
    open_round(round=spring, actor=manager)
    assert as_member.get(url).status_code == 403  # open: readable, not theirs to change
    fixed = as_manager.post(url, round_post(pot="999"))
    assert fixed.status_code == 409
    spring.refresh_from_db()
    assert spring.pot == D(150)


def test_projects_are_proposed_changed_and_withdrawn_before_opening(
    as_manager, as_member, network, venue, spring
):
    url = reverse("web:allocation_round_projects", args=[spring.pk])
    assert as_member.get(url).status_code == 404
    velo = data.project(network, "atelier-velo", venue=venue, title="Atelier vélo")
    page = as_manager.get(url)
    assert list(page.context["propose_form"].fields["project"].queryset) == [velo]  # the garden is in already
    bad = as_manager.post(url, {"action": "propose", "project": velo.pk, "minimum": "50", "maximum": "20"})
    assert bad.status_code == 422 and "maximum" in bad.context["propose_form"].errors
    assert spring.projects.count() == 1
    proposed = as_manager.post(
        url, {"action": "propose", "project": velo.pk, "minimum": "20", "maximum": "50"}
    )
    assert proposed.status_code == 302
    proposal = RoundProject.objects.get(round=spring, project=velo)
    prefix = f"p{proposal.pk}"
    changed = as_manager.post(
        url,
        {"action": "change", "proposal": proposal.pk, f"{prefix}-minimum": "0", f"{prefix}-maximum": "70"},
    )
    assert changed.status_code == 302
    proposal.refresh_from_db()
    assert (proposal.minimum, proposal.maximum) == (D(0), D(70))
    assert as_manager.post(url, {"action": "withdraw", "proposal": proposal.pk}).status_code == 302
    assert not RoundProject.objects.filter(pk=proposal.pk).exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "contributions.round.project_proposed",
        "contributions.round.proposal_changed",
        "contributions.round.project_withdrawn",
    } <= actions


def test_once_open_proposals_are_fixed(as_manager, manager, member, spring):
    open_round(round=spring, actor=manager)
    proposal = spring.projects.get()
    url = reverse("web:allocation_round_projects", args=[spring.pk])
    prefix = f"p{proposal.pk}"
    refused = as_manager.post(
        url,
        {"action": "change", "proposal": proposal.pk, f"{prefix}-minimum": "0", f"{prefix}-maximum": "99"},
    )
    assert refused.status_code == 409
    assert as_manager.post(url, {"action": "withdraw", "proposal": proposal.pk}).status_code == 409
    proposal.refresh_from_db()
    assert (proposal.minimum, proposal.maximum) == (D(10), D(60))


def test_the_round_pages_link_to_the_set_up_for_managers(as_manager, as_member, manager, member, spring):
    listing = html(as_manager.get(reverse("web:allocation_rounds")))
    assert reverse("web:allocation_round_new") in listing
    assert reverse("web:allocation_round_new") not in html(as_member.get(reverse("web:allocation_rounds")))
    page = html(as_manager.get(reverse("web:allocation_round", args=[spring.pk])))
    assert reverse("web:allocation_round_edit", args=[spring.pk]) in page
    assert reverse("web:allocation_round_projects", args=[spring.pk]) in page
    open_round(round=spring, actor=manager)
    page = html(as_member.get(reverse("web:allocation_round", args=[spring.pk])))
    assert reverse("web:allocation_round_projects", args=[spring.pk]) not in page


def test_a_forged_row_id_is_not_found(as_manager, spring, network):
    data.activities(network, "Communication")
    for value in ("abc", "", "-1", str(2**70)):
        assert (
            as_manager.post(
                reverse("web:contribution_shared_activities"), {"action": "remove", "activity": value}
            ).status_code
            == 404
        )
        assert (
            as_manager.post(
                reverse("web:allocation_round_projects", args=[spring.pk]),
                {"action": "withdraw", "proposal": value},
            ).status_code
            == 404
        )
    assert (
        as_manager.post(reverse("web:contribution_shared_activities"), {"action": "drop"}).status_code == 404
    )
    assert Activity.objects.count() == 1 and spring.projects.count() == 1
