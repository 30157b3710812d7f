"""The offline allow-list and the upload of passages recorded offline."""

from datetime import timedelta

import pytest

from lieux.core.time import now
from lieux.interlieux import tokens
from lieux.interlieux.models import OfflinePassage, Visit, VisitSource
from lieux.interlieux.services import keys
from lieux.interlieux.services.allowlist import build_allowlist
from lieux.interlieux.services.credentials import badge_digest, public_id_of, register_badge
from lieux.interlieux.services.offline import OfflinePassageIn, upload_offline_passages
from tests.factories import UserFactory
from tests.interlieux_data import local, pass_plan, plan, subscribe


@pytest.fixture
def today(venue):
    return now().astimezone(venue.tz).date()


@pytest.fixture
def setup(venue, other_venue, traveller, member, key):
    subscribe(pass_plan(venue, [other_venue], days_per_month=8, weekdays="01234"), traveller)
    register_badge(venue=venue, person=traveller, uid="04A21BC3")
    subscribe(plan(venue), member)
    return traveller


def test_the_allowlist_is_signed_minimal_and_lists_who_may_enter(
    setup, other_venue, network, traveller, member
):
    UserFactory(email="personne@example.org")
    document = build_allowlist(venue=other_venue)
    snapshot = document["snapshot"]
    public = keys.public_keys(network.pk, now())[document["key_id"]]
    assert tokens.verify_document(snapshot, document["signature"], public_key=public)
    people = {entry["person"]: entry for entry in snapshot["entries"]}
    assert set(people) == {public_id_of(traveller)}  # Camille is a member of La Coroutine only
    entry = people[public_id_of(traveller)]
    assert entry["badges"] == [badge_digest("04A21BC3")]
    assert entry["right"]["kind"] == "pass" and entry["right"]["weekdays"] == [0, 1, 2, 3, 4]
    assert entry["right"]["days_left_this_month"] == 8
    text = str(document)
    for private in (traveller.email, traveller.last_name, member.email, "04A21BC3", "La Coroutine"):
        assert private not in text
    assert snapshot["valid_until"] > snapshot["generated_at"]
    snapshot["entries"].append({"person": "intrus", "badges": [], "right": {"kind": "member"}})
    assert not tokens.verify_document(snapshot, document["signature"], public_key=public)


def test_offline_passages_are_recorded_once_whatever_the_number_of_uploads(setup, other_venue, today):
    from tests.interlieux_data import door

    device, _token = door(other_venue)
    at = local(other_venue, today, 9)
    batch = [
        OfflinePassageIn("p-1", "04A21BC3", at),
        OfflinePassageIn("p-2", "04A21BC3", at + timedelta(hours=3)),
        OfflinePassageIn("p-3", "FFFF0000", at),
    ]
    first = upload_offline_passages(device=device, passages=batch, at=at + timedelta(hours=4))
    again = upload_offline_passages(device=device, passages=batch, at=at + timedelta(hours=5))
    assert [o.outcome for o in first] == ["recorded", "recorded", "unknown_credential"]
    assert [o.outcome for o in again] == ["duplicate"] * 3
    visit = Visit.objects.get()
    assert visit.passages == 2 and visit.source == VisitSource.OFFLINE
    assert (visit.first_seen_at, visit.last_seen_at) == (at, at + timedelta(hours=3))
    assert OfflinePassage.objects.count() == 3


def test_stale_and_future_passages_are_refused(setup, other_venue, today):
    from tests.interlieux_data import door

    device, _token = door(other_venue)
    at = now()
    outcomes = upload_offline_passages(
        device=device,
        passages=[
            OfflinePassageIn("old", "04A21BC3", at - timedelta(days=8)),
            OfflinePassageIn("soon", "04A21BC3", at + timedelta(hours=1)),
        ],
        at=at,
    )
    assert [o.outcome for o in outcomes] == ["too_old", "in_future"]
    assert not Visit.objects.exists() and not OfflinePassage.objects.exists()
