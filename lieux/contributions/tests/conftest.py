"""Fixtures of the contributions tests: a garden project at La Coroutine looked after by a steward, the
network's shared activities, a 2026 budget, and a clock stopped in June 2026 so that "not in the future"
and "within the period" do not depend on the day the tests run. A module's own fixture of the same name
takes precedence."""

from datetime import UTC, datetime

import pytest

from lieux.contributions.services import declare
from tests import contributions_data as data
from tests.factories import UserFactory, add_role

JUNE_15 = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(declare, "now", lambda: JUNE_15)
    return JUNE_15


@pytest.fixture
def steward(venue):
    person = UserFactory(email="soucieux@example.org", first_name="Robin")
    add_role(person, venue)
    return person


@pytest.fixture
def garden(network, venue, steward):
    return data.project(network, "jardin", venue=venue, stewards=[steward])


@pytest.fixture
def shared(network):
    return data.activities(network, "Communication", "Animation", "Jardin")


@pytest.fixture
def budget(network, venue, garden, clock):
    return data.budget(network, venue=venue)
