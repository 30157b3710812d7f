import pytest

from tests.factories import UserFactory
from tests.interlieux_data import door, network_key


@pytest.fixture
def key(network):
    return network_key(network)


@pytest.fixture
def front_door(venue):
    return door(venue)


@pytest.fixture
def other_door(other_venue):
    return door(other_venue, "Porte Baraka")


@pytest.fixture
def traveller(venue):
    """A person subscribed at La Coroutine who travels to Baraka."""
    return UserFactory(email="voyage@example.org", first_name="Lou", last_name="Martin")
