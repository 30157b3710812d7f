"""One badge at two venues within minutes: flagged whether the passages come online or from a door that was
offline, and shown to the teams of the venues concerned."""

import logging
from datetime import timedelta

import pytest

from lieux.core.models import AuditEvent
from lieux.core.time import now
from lieux.interlieux.anomalies import badge_anomalies
from lieux.interlieux.models import AccessAudit, CredentialKind
from lieux.interlieux.services import check
from lieux.interlieux.services.credentials import register_badge
from lieux.interlieux.services.offline import OfflinePassageIn, upload_offline_passages
from tests.factories import VenueFactory
from tests.interlieux_data import door, pass_plan, subscribe

UID = "04A21BC3"


@pytest.fixture
def badge(venue, other_venue, traveller):
    subscribe(pass_plan(venue, [other_venue]), traveller)
    return register_badge(venue=venue, person=traveller, uid=UID)


@pytest.fixture
def moment():
    return now().replace(microsecond=0) - timedelta(hours=1)


def offline(device, passage_id, seen_at):
    [outcome] = upload_offline_passages(
        device=device, passages=[OfflinePassageIn(passage_id, UID, seen_at)], at=seen_at + timedelta(hours=1)
    )
    return outcome


def test_an_offline_passage_uploaded_later_is_flagged_against_an_online_scan(
    badge, front_door, other_door, moment, caplog
):
    online = check.check_access(device=front_door[0], credential=UID, at=moment)
    assert not online.audit.anomaly
    with caplog.at_level(logging.WARNING, logger="lieux.interlieux.access"):
        offline(other_door[0], "p-1", moment + timedelta(minutes=4))
    row = AccessAudit.objects.get(credential_kind=CredentialKind.OFFLINE)
    assert row.anomaly and row.badge == badge
    assert "two venues" in caplog.text
    event = AuditEvent.objects.get(action="interlieux.badge.anomaly")
    assert event.data["access_audit_id"] == row.pk


def test_an_online_scan_is_flagged_against_an_offline_passage_already_uploaded(
    badge, front_door, other_door, moment
):
    offline(other_door[0], "p-1", moment)
    assert not AccessAudit.objects.get().anomaly
    assert check.check_access(
        device=front_door[0], credential=UID, at=moment + timedelta(minutes=3)
    ).audit.anomaly


def test_passages_far_apart_or_at_one_venue_are_no_anomaly(badge, front_door, other_door, moment):
    check.check_access(device=front_door[0], credential=UID, at=moment)
    offline(door(front_door[0].venue, "Porte arrière")[0], "p-1", moment + timedelta(minutes=2))
    offline(other_door[0], "p-2", moment + timedelta(minutes=40))
    assert not AccessAudit.objects.filter(anomaly=True).exists()
    assert not AuditEvent.objects.filter(action="interlieux.badge.anomaly").exists()


def test_the_teams_of_the_venues_concerned_see_the_anomaly(
    badge, network, venue, other_venue, front_door, other_door, moment
):
    check.check_access(device=front_door[0], credential=UID, at=moment)
    offline(other_door[0], "p-1", moment + timedelta(minutes=4))
    # Flagged at Baraka's door, on a badge La Coroutine issued: both teams see it, with the other venue.
    [at_host] = badge_anomalies(other_venue)
    assert (at_host.badge, at_host.venue_name, at_host.other_venue_names) == (
        badge,
        "Baraka",
        ("La Coroutine",),
    )
    [at_issuer] = badge_anomalies(venue)
    assert at_issuer == at_host
    assert badge_anomalies(VenueFactory(network=network)) == []
