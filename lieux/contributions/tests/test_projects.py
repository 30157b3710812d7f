"""Projects, their stewards and activities: who creates and changes them, what is audited, who reads them."""

import pytest

from lieux.contributions.errors import NotProjectManager, SlugTaken
from lieux.contributions.models import Activity, Project, ProjectStatus
from lieux.contributions.selectors import projects as selectors
from lieux.contributions.services.projects import create_activity, create_project, update_project
from lieux.core.errors import ValidationError
from lieux.core.models import AuditEvent
from tests import contributions_data as data
from tests.factories import UserFactory, add_role


def test_a_venues_manager_creates_a_project_with_its_stewards(manager, member, network, venue):
    project = create_project(
        network=network,
        venue=venue,
        slug="four-a-pain",
        title=" Four à pain ",
        stewards=[member],
        actor=manager,
    )
    assert (project.title, project.venue, list(project.stewards.all())) == ("Four à pain", venue, [member])
    event = AuditEvent.objects.get(action="contributions.project.created")
    assert (event.actor, event.venue_id, event.data["stewards"]) == (manager, venue.pk, [member.pk])


def test_members_do_not_create_projects_and_a_manager_only_at_their_venue(
    member, manager, other_manager, network, venue, other_venue
):
    with pytest.raises(NotProjectManager):
        create_project(network=network, venue=venue, slug="x", title="X", actor=member)
    with pytest.raises(NotProjectManager):
        create_project(network=network, venue=venue, slug="x", title="X", actor=other_manager)
    # A project of the whole network: any venue's manager of the network.
    made = create_project(network=network, slug="reseau", title="Réseau", actor=other_manager)
    assert made.venue is None
    assert Project.objects.count() == 1


def test_a_slug_is_unique_in_the_network_and_input_is_checked(manager, network, venue):
    create_project(network=network, venue=venue, slug="jardin", title="Jardin", actor=manager)
    with pytest.raises(SlugTaken):
        create_project(network=network, venue=venue, slug="jardin", title="Autre", actor=manager)
    for fields, code in (
        ({"slug": "pas un slug"}, "invalid_slug"),
        ({"title": "  "}, "required"),
        ({"status": "fini"}, "invalid_status"),
    ):
        arguments = {"slug": "ok", "title": "Ok", **fields}
        with pytest.raises(ValidationError) as refused:
            create_project(network=network, venue=venue, actor=manager, **arguments)
        assert refused.value.code == code
    assert Project.objects.count() == 1


def test_stewards_change_their_project_and_a_change_of_stewards_is_audited(
    steward, member, other_member, garden, manager
):
    update_project(garden, actor=steward, description="Les bacs du toit", status=ProjectStatus.PAUSED)
    garden.refresh_from_db()
    assert (garden.description, garden.status) == ("Les bacs du toit", "paused")
    update_project(garden, actor=manager, stewards=[steward, member])
    event = AuditEvent.objects.get(action="contributions.project.stewards_changed")
    assert (event.data["added"], event.data["removed"]) == ([member.pk], [])
    with pytest.raises(NotProjectManager):
        update_project(garden, actor=other_member, title="Pris")
    with pytest.raises(ValidationError):
        update_project(garden, actor=manager, slug="autre")
    update_project(garden, actor=steward, title="Jardin")  # unchanged: nothing audited
    assert AuditEvent.objects.filter(action="contributions.project.updated").count() == 1


def test_activities_shared_by_the_networks_managers_or_a_budgets_own_by_its_stewards(
    manager, member, steward, network, venue, garden
):
    shared = create_activity(network=network, name="Communication", actor=manager)
    assert create_activity(network=network, name=" communication ", actor=manager) == shared
    with pytest.raises(NotProjectManager):
        create_activity(network=network, name="Animation", actor=member)
    budget = data.budget(network, "jardin-2026", project=garden)
    own = create_activity(network=network, name="Arrosage", budget=budget, actor=steward)
    assert own.budget == budget
    # A budget may have its own word even where the network has a shared one.
    assert (
        create_activity(network=network, name="Communication", budget=budget, actor=steward).budget == budget
    )
    with pytest.raises(ValidationError) as refused:
        create_activity(network=network, name="Com, Anim", actor=manager)
    assert refused.value.code == "invalid_activity_name"
    assert AuditEvent.objects.filter(action="contributions.activity.created").count() == 3
    index = selectors.activity_index(network_id=network.pk, budget=budget)
    assert index["communication"].budget == budget and index["arrosage"] == own
    assert set(selectors.activity_index(network_id=network.pk)) == {"communication"}
    assert Activity.objects.count() == 3


def test_private_projects_are_read_by_their_network_and_stewards_only(member, stranger, network, venue):
    public = data.project(network, "public", venue=venue)
    private = data.project(network, "prive", venue=venue, is_public=False)
    outsider_steward = UserFactory(email="dehors@example.org")
    looked_after = data.project(network, "dehors", is_public=False, stewards=[outsider_steward])
    assert set(selectors.projects(member)) == {public, private, looked_after}
    assert set(selectors.projects(stranger)) == {public}
    assert set(selectors.projects(outsider_steward)) == {public, looked_after}
    assert set(selectors.projects(outsider_steward, stewarded=True)) == {looked_after}


def test_lists_by_venue_network_and_the_public_ones(member, network, venue, other_venue):
    here = data.project(network, "ici", venue=venue)
    there = data.project(network, "la-bas", venue=other_venue)
    everywhere = data.project(network, "partout")
    archived = data.project(network, "ancien", status=ProjectStatus.ARCHIVED)
    assert list(selectors.projects(member, venue=venue)) == [here]
    assert set(selectors.projects(member, network_wide=True)) == {everywhere, archived}
    assert set(selectors.public_projects(network)) == {here, there, everywhere}
    assert list(selectors.public_projects(network, venue=other_venue)) == [there]


def test_network_membership_comes_from_a_role_at_any_venue_or_administration(
    member, stranger, network, other_venue
):
    assert selectors.is_network_member(member, network.pk)
    assert not selectors.is_network_member(stranger, network.pk)
    add_role(stranger, other_venue)
    assert selectors.is_network_member(stranger, network.pk)
    admin = UserFactory(email="admin@example.org")
    network.admins.add(admin)
    assert selectors.is_network_member(admin, network.pk)
