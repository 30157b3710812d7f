"""What a door's check reads and writes besides the decision: the device's last contact, kept to the minute
without a write per scan, and no opening hours read for a credential that names no one."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from lieux.core.time import now
from lieux.interlieux import rules
from lieux.interlieux.models import AccessAudit, DoorDevice
from lieux.interlieux.services import check
from lieux.interlieux.services.devices import device_for_token
from tests.interlieux_data import local


def _scan_as_the_api_does(raw_token: str, at):
    """A fresh device row per request, as the door API loads it."""
    device = device_for_token(raw_token)
    assert device is not None
    return check.check_access(device=device, credential="0BADC0DE", at=at)


def test_the_last_contact_of_a_door_moves_at_most_once_a_minute(venue, front_door):
    _device, raw = front_door
    start = local(venue, now().astimezone(venue.tz).date(), 10)
    _scan_as_the_api_does(raw, start)
    assert DoorDevice.objects.get().last_seen_at == start
    _scan_as_the_api_does(raw, start + timedelta(seconds=30))
    assert DoorDevice.objects.get().last_seen_at == start
    _scan_as_the_api_does(raw, start + timedelta(seconds=61))
    assert DoorDevice.objects.get().last_seen_at == start + timedelta(seconds=61)
    # An older instant (a late scan) never moves it back.
    _scan_as_the_api_does(raw, start - timedelta(minutes=5))
    assert DoorDevice.objects.get().last_seen_at == start + timedelta(seconds=61)
    assert AccessAudit.objects.count() == 4


def test_a_door_scanning_often_writes_only_its_audit_row(venue, front_door):
    _device, raw = front_door
    start = local(venue, now().astimezone(venue.tz).date(), 10)
    _scan_as_the_api_does(raw, start)
    device = device_for_token(raw)
    assert device is not None
    with CaptureQueriesContext(connection) as captured:
        check.check_access(device=device, credential="0BADC0DE", at=start + timedelta(seconds=5))
    writes = [q["sql"] for q in captured.captured_queries if q["sql"].split()[0] in {"INSERT", "UPDATE"}]
    assert len(writes) == 1 and "interlieux_accessaudit" in writes[0]


def test_an_unknown_badge_is_refused_without_reading_the_venue_hours(venue, front_door):
    device, _raw = front_door
    at = local(venue, now().astimezone(venue.tz).date(), 3)  # closed at night: the credential still decides
    with CaptureQueriesContext(connection) as captured:
        result = check.check_access(device=device, credential="0BADC0DE", at=at)
    assert not result.allowed and result.decision.reason == rules.UNKNOWN_CREDENTIAL
    statements = " ".join(q["sql"] for q in captured.captured_queries)
    assert "venues_openinghours" not in statements and "venues_closure" not in statements
