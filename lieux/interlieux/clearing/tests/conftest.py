import pytest

from tests.factories import UserFactory, VenueFactory


@pytest.fixture
def third_venue(network):
    return VenueFactory(network=network, name="Mons Fabrica", slug="mons-fabrica", city="Mons-en-Barœul")


@pytest.fixture
def people(db):
    return [UserFactory() for _ in range(10)]
