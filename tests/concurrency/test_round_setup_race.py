"""A round's settings change only while it is in preparation, even when a manager changes its pot at the
instant another opens it.

Opening fixes each participant's equal share of the pot. A change of pot that lands after the opening has
read it would leave shares that no longer add up to the pot. services.setup.update_round takes the round's
row lock and checks it is still in preparation under it, as open_round takes the same lock: either the
change comes first (the shares divide the new pot) or the opening does (the change is refused).

The variant without the lock (PostgreSQL only: SQLite's IMMEDIATE transactions serialise writers by
themselves) reads the round without locking it and thinks a little between checking and writing, as a
handler that checked then wrote would: the same race then leaves the pot and the shares apart, which shows
the test above would catch a missing lock.
"""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.db.models import Sum

from lieux.contributions.errors_setup import RoundNotInPreparation
from lieux.contributions.models import AllocationRound, RoundParticipant, RoundStatus
from lieux.contributions.services import setup as setup_services
from lieux.contributions.services.rounds import create_round, open_round, propose_project
from lieux.contributions.services.setup import update_round
from lieux.core.time import now
from tests import contributions_data as data
from tests.factories import UserFactory, add_role

pytestmark = pytest.mark.django_db(transaction=True)

NEW_POT = Decimal("999.00")


@pytest.fixture
def prepared(network, venue):
    for i in range(5):
        add_role(UserFactory(email=f"membre{i}@example.org"), venue)
    moment = now()
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
    propose_project(
        round=round_, project=data.project(network, "jardin", venue=venue), minimum="0", maximum="90"
    )
    return round_


def change_pot_while_opening(round_: AllocationRound) -> dict[str, str]:
    """One thread changes the pot, another opens the round a moment later; what became of each."""
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def change() -> None:
        try:
            barrier.wait()
            update_round(
                round=round_,
                name=round_.name,
                description="",
                pot=NEW_POT,
                funder=round_.funder,
                rule=round_.rule,
                opens_at=round_.opens_at,
                closes_at=round_.closes_at,
            )
            outcome["change"] = "saved"
        except RoundNotInPreparation:
            outcome["change"] = "refused"
        except Exception as error:
            outcome["change"] = f"{type(error).__name__}: {error}"
        finally:
            connections.close_all()

    def open_() -> None:
        try:
            barrier.wait()
            time.sleep(0.02)  # the change has read the round by now
            open_round(round=round_)
            outcome["open"] = "opened"
        except Exception as error:
            outcome["open"] = f"{type(error).__name__}: {error}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=change), threading.Thread(target=open_)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcome


def shares(round_: AllocationRound) -> Decimal:
    return RoundParticipant.objects.filter(round=round_).aggregate(total=Sum("share"))["total"]


def test_a_change_of_pot_racing_the_opening_never_leaves_the_shares_apart(prepared):
    outcome = change_pot_while_opening(prepared)
    assert outcome["open"] == "opened" and outcome["change"] in ("saved", "refused")
    prepared.refresh_from_db()
    assert prepared.status == RoundStatus.OPEN
    assert shares(prepared) == prepared.pot
    assert prepared.pot == (NEW_POT if outcome["change"] == "saved" else Decimal(100))


@pytest.fixture
def lock_removed(postgres, monkeypatch):
    """The round read without a lock, and a little think time between checking it and writing."""

    def read_then_think(round_):
        found = AllocationRound.objects.get(pk=round_.pk)
        if found.status != RoundStatus.DRAFT:
            raise RoundNotInPreparation()
        time.sleep(0.3)
        return found

    monkeypatch.setattr(setup_services, "_lock_draft", read_then_think)


def test_without_the_lock_the_same_race_leaves_the_shares_apart(lock_removed, prepared):
    """Shows that test_a_change_of_pot_racing_the_opening_never_leaves_the_shares_apart would catch a
    missing lock."""
    outcome = change_pot_while_opening(prepared)
    assert outcome == {"open": "opened", "change": "saved"}
    prepared.refresh_from_db()
    assert prepared.status == RoundStatus.OPEN and prepared.pot == NEW_POT
    assert shares(prepared) == Decimal(100) != prepared.pot
