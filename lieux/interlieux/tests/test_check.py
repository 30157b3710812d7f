"""The access check end to end below the API: credentials, decisions, visits and the audit trail."""

import logging
from datetime import timedelta

import pytest

from lieux.billing.models.invoices import PastDueAccess
from lieux.billing.services.drafts import profile_for
from lieux.core.models import AuditEvent
from lieux.core.time import now
from lieux.interlieux import rules
from lieux.interlieux.models import AccessAudit, Badge, NetworkKey, UsedToken, Visit, VisitSource
from lieux.interlieux.services import check, credentials, keys
from lieux.interlieux.services.credentials import issue_qr_token, register_badge, revoke_badge
from lieux.venues.models import Network
from tests.factories import VenueFactory
from tests.interlieux_data import local, pass_plan, plan, subscribe


@pytest.fixture
def today(venue):
    return now().astimezone(venue.tz).date()


@pytest.fixture
def at(venue, today):
    return local(venue, today, 10)


@pytest.fixture
def pass_holder(venue, other_venue, traveller):
    subscription = subscribe(pass_plan(venue, [other_venue], days_per_month=3), traveller)
    register_badge(venue=venue, person=traveller, uid="04:a2:1b:c3")
    return subscription


def scan(device, credential, at, **kwargs):
    return check.check_access(device=device, credential=credential, at=at, **kwargs)


def test_a_member_enters_their_venue_and_rescans_add_passages_not_visits(venue, member, front_door, at):
    subscribe(plan(venue), member)
    register_badge(venue=venue, person=member, uid="DEADBEEF")
    first = scan(front_door[0], "de:ad:be:ef", at)
    again = scan(front_door[0], "DEADBEEF", at + timedelta(hours=2))
    assert first.allowed and first.decision.reason == rules.OK_MEMBER
    assert first.display_name == member.get_full_name()
    visit = Visit.objects.get()
    assert again.visit == visit and visit.passages == 2
    assert (visit.first_seen_at, visit.last_seen_at) == (at, at + timedelta(hours=2))
    assert visit.home_venue == venue and visit.source == VisitSource.BADGE
    assert AccessAudit.objects.filter(allowed=True).count() == 2


def test_a_pass_holder_at_a_partner_venue_is_named_by_first_name_and_counted(
    pass_holder, other_door, other_venue, venue, traveller, at, today
):
    result = scan(other_door[0], "04A21BC3", at)
    assert result.allowed and result.decision.reason == rules.OK_PASS
    assert result.display_name == "Lou"
    assert result.decision.explanation == (
        "valid: Pass Interlieux from La Coroutine, 1 of 3 days used this month at Baraka"
    )
    visit = Visit.objects.get()
    assert (visit.venue, visit.home_venue, visit.subscription) == (other_venue, venue, pass_holder)


def test_the_days_per_month_are_counted_per_host_venue(
    pass_holder, other_door, other_venue, traveller, at, today
):
    # Any other days of the month count, before or after today: every month has three of them.
    others = [day for day in (today.replace(day=n) for n in range(1, 5)) if day != today][:3]
    for day in others:
        Visit.objects.create(
            person=traveller,
            venue=other_venue,
            home_venue=pass_holder.venue,
            subscription=pass_holder,
            day=day,
            first_seen_at=at,
            last_seen_at=at,
            source=VisitSource.BADGE,
        )
    result = scan(other_door[0], "04A21BC3", at)
    assert not result.allowed and result.decision.reason == rules.QUOTA_REACHED
    assert "3 of 3 days" in result.decision.explanation


def test_bad_credentials_write_nothing_but_their_audit_row(pass_holder, front_door, key, at):
    before = (Visit.objects.count(), AuditEvent.objects.count(), UsedToken.objects.count())
    for credential, reason in [
        ("CAFEBABE", rules.UNKNOWN_CREDENTIAL),
        ("not a badge!", rules.UNKNOWN_CREDENTIAL),
        ("LC1.garbage.garbage", rules.BAD_TOKEN),
        ("", rules.UNKNOWN_CREDENTIAL),
    ]:
        result = scan(front_door[0], credential, at)
        assert not result.allowed and result.decision.reason == reason, credential
        assert result.display_name == ""
    assert (Visit.objects.count(), AuditEvent.objects.count(), UsedToken.objects.count()) == before
    assert AccessAudit.objects.filter(allowed=False).count() == 4


def test_a_revoked_badge_is_refused(pass_holder, front_door, at):
    revoke_badge(badge=Badge.objects.get())
    result = scan(front_door[0], "04A21BC3", at)
    assert result.decision.reason == rules.REVOKED_BADGE and not Visit.objects.exists()


def test_a_device_naming_another_venue_is_refused(pass_holder, front_door, at):
    result = scan(front_door[0], "04A21BC3", at, venue_slug="baraka")
    assert result.decision.reason == rules.WRONG_VENUE_DEVICE and not Visit.objects.exists()


def test_a_qr_token_opens_once_then_is_a_replay(pass_holder, other_door, traveller, network, key, at):
    token, _claims = issue_qr_token(person=traveller, network=network, at=at)
    assert scan(other_door[0], token, at + timedelta(seconds=5)).allowed
    replay = scan(other_door[0], token, at + timedelta(seconds=10))
    assert replay.decision.reason == rules.REPLAYED_TOKEN
    assert Visit.objects.get().passages == 1
    expired = issue_qr_token(person=traveller, network=network, at=at)[0]
    assert scan(other_door[0], expired, at + timedelta(minutes=10)).decision.reason == rules.EXPIRED_TOKEN


def test_a_revoked_token_is_refused(pass_holder, other_door, traveller, network, key, at):
    token, claims = issue_qr_token(person=traveller, network=network, at=at)
    credentials.revoke_token(claims=claims)
    assert scan(other_door[0], token, at).decision.reason == rules.REVOKED_TOKEN


def test_a_token_of_another_network_is_refused(pass_holder, other_door, traveller, key, at):
    elsewhere = Network.objects.create(name="Autre réseau", slug="autre")
    VenueFactory(network=elsewhere)
    keys.create_network_key(network=elsewhere)
    token, _ = issue_qr_token(person=traveller, network=elsewhere, at=at)
    assert scan(other_door[0], token, at).decision.reason == rules.WRONG_NETWORK


def test_rotation_keeps_earlier_tokens_valid_and_keys_stay_encrypted(
    pass_holder, other_door, traveller, network, key, at
):
    token, _ = issue_qr_token(person=traveller, network=network, at=at)
    new = keys.create_network_key(network=network, at=at)
    assert NetworkKey.objects.get(pk=key.pk).retired_at == at
    assert keys.current_key(network) == new
    assert scan(other_door[0], token, at + timedelta(seconds=30)).allowed
    private_hex = keys.signing_key(network)[1].private_bytes_raw().hex()
    assert private_hex not in new.encrypted_private_key
    assert new.public_key not in new.encrypted_private_key


def test_one_badge_at_two_venues_within_minutes_is_an_anomaly(
    pass_holder, front_door, other_door, at, caplog
):
    scan(front_door[0], "04A21BC3", at)
    with caplog.at_level(logging.WARNING, logger="lieux.interlieux.access"):
        second = scan(other_door[0], "04A21BC3", at + timedelta(minutes=4))
    assert second.audit.anomaly
    assert "two venues" in caplog.text
    assert AuditEvent.objects.filter(action="interlieux.badge.anomaly").count() == 1
    later = scan(front_door[0], "04A21BC3", at + timedelta(minutes=40))
    assert not later.audit.anomaly


def test_past_due_at_home_closes_the_partner_doors_when_the_policy_says_so(
    pass_holder, other_door, venue, at, monkeypatch
):
    profile = profile_for(venue)
    profile.past_due_access = PastDueAccess.SUSPEND_ALL
    profile.save()
    monkeypatch.setattr("lieux.interlieux.selectors.access_restriction", lambda *a, **k: "suspend_all")
    result = scan(other_door[0], "04A21BC3", at)
    assert result.decision.reason == rules.PAST_DUE and not Visit.objects.exists()


def test_outside_opening_hours_nobody_enters(pass_holder, front_door, venue, today):
    result = scan(front_door[0], "04A21BC3", local(venue, today, 22))
    assert result.decision.reason == rules.OUTSIDE_HOURS


def test_reception_desk_checks_in_by_name_with_the_same_rules(
    pass_holder, other_venue, traveller, manager, at
):
    result = check.check_in_person(venue=other_venue, person=traveller, actor=manager, at=at)
    assert result.allowed and Visit.objects.get().source == VisitSource.KIOSK


def test_badges_are_normalised_unique_while_live_and_reusable_after_revocation(venue, member, stranger):
    badge = register_badge(venue=venue, person=member, uid=" 04-a2-1b-c3 ")
    assert badge.uid == "04A21BC3"
    from lieux.core.errors import Conflict, ValidationError

    with pytest.raises(Conflict):
        register_badge(venue=venue, person=stranger, uid="04a21bc3")
    with pytest.raises(ValidationError):
        register_badge(venue=venue, person=stranger, uid="zz")
    revoke_badge(badge=badge)
    assert register_badge(venue=venue, person=stranger, uid="04A21BC3").person == stranger
