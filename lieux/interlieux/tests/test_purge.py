"""Forgetting what is past its retention: spent and revoked QR tokens once expired, the door's log after
13 months, offline passages after their retention but never while a door may still upload them again."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from lieux.core.schedule import JOBS
from lieux.core.time import UTC
from lieux.interlieux.models import AccessAudit, OfflinePassage, RevokedToken, UsedToken, Visit
from lieux.interlieux.services import purge as purge_service
from lieux.interlieux.services.offline import OfflinePassageIn, upload_offline_passages
from lieux.interlieux.services.purge import audit_cutoff, purge
from tests.interlieux_data import door

AT = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


@pytest.fixture
def device(venue):
    return door(venue)[0]


def token(model, jti, expires_at, venue):
    extra = {"venue": venue} if model is UsedToken else {}
    return model.objects.create(jti=jti, expires_at=expires_at, **extra)


def check_row(venue, at):
    return AccessAudit.objects.create(at=at, venue=venue, credential_kind="badge", allowed=True, reason="ok")


def passage(device, passage_id, seen_at):
    return OfflinePassage.objects.create(device=device, passage_id=passage_id, seen_at=seen_at, outcome="ok")


def test_thirteen_months_back_is_counted_in_calendar_months():
    assert audit_cutoff(AT, 13) == datetime(2025, 2, 28, 12, 0, tzinfo=UTC)


def test_purge_forgets_what_is_past_its_retention_and_keeps_the_rest(settings, venue, device):
    settings.LIEUX_ACCESS_AUDIT_RETENTION_MONTHS = 13
    settings.LIEUX_OFFLINE_PASSAGE_RETENTION_DAYS = 90
    for model in (UsedToken, RevokedToken):
        token(model, f"{model.__name__}-old", AT - timedelta(hours=2), venue)
        token(model, f"{model.__name__}-margin", AT - timedelta(minutes=30), venue)  # within the margin
        token(model, f"{model.__name__}-live", AT + timedelta(minutes=2), venue)
    old_check = check_row(venue, datetime(2025, 2, 27, 12, 0, tzinfo=UTC))
    kept_check = check_row(venue, datetime(2025, 3, 1, 12, 0, tzinfo=UTC))
    passage(device, "old", AT - timedelta(days=91))
    passage(device, "kept", AT - timedelta(days=89))

    report = purge_service.purge(at=AT, dry_run=True)
    assert (report.used_tokens, report.revoked_tokens, report.access_checks, report.offline_passages) == (
        1,
        1,
        1,
        1,
    )
    assert UsedToken.objects.count() == 3  # a dry run deletes nothing

    report = purge(at=AT)
    assert (report.used_tokens, report.revoked_tokens, report.access_checks, report.offline_passages) == (
        1,
        1,
        1,
        1,
    )
    assert sorted(UsedToken.objects.values_list("jti", flat=True)) == ["UsedToken-live", "UsedToken-margin"]
    assert RevokedToken.objects.count() == 2
    assert list(AccessAudit.objects.all()) == [kept_check] and not AccessAudit.objects.filter(pk=old_check.pk)
    assert list(OfflinePassage.objects.values_list("passage_id", flat=True)) == ["kept"]
    assert purge(at=AT).summary() == "0 used tokens, 0 revoked tokens, 0 access checks, 0 offline passages"


def test_purge_deletes_in_batches(monkeypatch, venue):
    monkeypatch.setattr(purge_service, "BATCH", 2)
    for n in range(5):
        token(UsedToken, f"t-{n}", AT - timedelta(days=1), venue)
    assert purge(at=AT).used_tokens == 5 and not UsedToken.objects.exists()


def test_offline_passages_outlive_the_window_in_which_a_door_may_upload_them_again(settings, venue, device):
    settings.LIEUX_OFFLINE_PASSAGE_RETENTION_DAYS = 0  # whatever the setting says
    seen_at = AT - timedelta(days=6)
    [first] = upload_offline_passages(
        device=device, passages=[OfflinePassageIn("p-1", "nobody", seen_at)], at=AT
    )
    assert first.outcome != "duplicate"
    purge(at=AT)
    [again] = upload_offline_passages(
        device=device, passages=[OfflinePassageIn("p-1", "nobody", seen_at)], at=AT + timedelta(hours=23)
    )
    assert again.outcome == "duplicate" and OfflinePassage.objects.count() == 1


def test_visits_are_never_purged(venue, traveller):
    Visit.objects.create(
        person=traveller,
        venue=venue,
        home_venue=venue,
        day=(AT - timedelta(days=800)).date(),
        first_seen_at=AT - timedelta(days=800),
        last_seen_at=AT - timedelta(days=800),
        source="badge",
    )
    purge(at=AT)
    assert Visit.objects.count() == 1


def test_the_command_and_the_worker_run_the_purge(venue):
    token(UsedToken, "old", datetime(2020, 1, 1, tzinfo=UTC), venue)
    out = StringIO()
    call_command("interlieux", "purge", "--dry-run", stdout=out)
    assert "Would delete 1 used tokens" in out.getvalue() and UsedToken.objects.exists()
    call_command("interlieux", "purge", stdout=StringIO())
    assert not UsedToken.objects.exists()
    job = JOBS["interlieux.purge"]
    assert job.every_seconds == 24 * 3600 and "0 used tokens" in str(job.run())
