from datetime import timedelta

import pytest

from lieux.core.errors import NotFound, ValidationError
from lieux.core.models import AuditEvent
from lieux.venues.models import BookableBy, Resource
from lieux.venues.services import update_resource_rules


def test_the_venues_manager_changes_the_rules_and_the_trail_says_what_changed(manager, room):
    updated = update_resource_rules(
        actor=manager,
        resource=room,
        min_duration=timedelta(hours=1),
        buffer_after=timedelta(minutes=15),
        approval_required=True,
        bookable_by=BookableBy.MEMBERS,
        granularity_minutes=room.granularity_minutes,  # unchanged: not in the trail
    )

    stored = Resource.objects.get(pk=room.pk)
    assert stored.min_duration == timedelta(hours=1)
    assert stored.buffer_after == timedelta(minutes=15)
    assert stored.approval_required and stored.bookable_by == BookableBy.MEMBERS
    assert updated.pk == room.pk and room.approval_required  # the caller's object follows
    event = AuditEvent.objects.get(action="venues.resource.rules_changed")
    assert event.actor == manager and event.venue_id == room.venue_id and event.object_id == str(room.pk)
    assert event.data["before"] == {
        "min_duration": 1800,
        "buffer_after": 0,
        "approval_required": False,
        "bookable_by": "anyone",
    }
    assert event.data["after"] == {
        "min_duration": 3600,
        "buffer_after": 900,
        "approval_required": True,
        "bookable_by": "members",
    }


def test_staff_of_the_venue_may_change_rules_too(venue, room):
    from lieux.venues.models import Role
    from tests.factories import UserFactory, add_role

    staff = UserFactory()
    add_role(staff, venue, Role.STAFF)
    update_resource_rules(actor=staff, resource=room, is_active=False)
    assert not Resource.objects.get(pk=room.pk).is_active


@pytest.mark.parametrize("who", ["other_manager", "member", "stranger"])
def test_anyone_else_is_told_the_resource_does_not_exist_and_nothing_changes(request, who, room):
    actor = request.getfixturevalue(who)
    with pytest.raises(NotFound):
        update_resource_rules(actor=actor, resource=room, approval_required=True)
    assert not Resource.objects.get(pk=room.pk).approval_required
    assert not AuditEvent.objects.exists()


def test_invalid_rules_are_refused_with_the_fields_at_fault_and_nothing_changes(manager, room):
    with pytest.raises(ValidationError) as refused:
        update_resource_rules(
            actor=manager, resource=room, min_duration=timedelta(hours=3), max_duration=timedelta(hours=1)
        )
    assert refused.value.code == "invalid_rules"
    assert refused.value.extra["errors"]
    with pytest.raises(ValidationError) as too_fine:
        update_resource_rules(actor=manager, resource=room, granularity_minutes=1)
    assert "granularity_minutes" in too_fine.value.extra["errors"]
    stored = Resource.objects.get(pk=room.pk)
    assert stored.min_duration == timedelta(minutes=30) and stored.granularity_minutes == 30
    assert not AuditEvent.objects.exists()


def test_only_booking_rules_can_be_changed_this_way(manager, room):
    with pytest.raises(ValidationError) as refused:
        update_resource_rules(actor=manager, resource=room, name="Renamed", venue_id=999)
    assert refused.value.code == "unknown_rule"
    assert refused.value.extra["fields"] == ["name", "venue_id"]
    assert Resource.objects.get(pk=room.pk).name == "Salle Ada"


def test_changing_nothing_writes_nothing(manager, room):
    update_resource_rules(actor=manager, resource=room, approval_required=False)
    assert not AuditEvent.objects.exists()
