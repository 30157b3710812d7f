import pytest
from django.core.exceptions import ValidationError

from lieux.venues.models import validate_siren, validate_siret, validate_timezone
from tests.factories import ResourceFactory, VenueFactory


@pytest.mark.parametrize("value", ["73282932000074", "552 081 317 66522".replace(" ", "")])
def test_valid_sirets_pass(value):
    validate_siret(value)


@pytest.mark.parametrize("value", ["73282932000075", "1234", "ABCDEFGHIJKLMN"])
def test_invalid_sirets_are_refused(value):
    with pytest.raises(ValidationError):
        validate_siret(value)


def test_siren_and_timezone_validation():
    validate_siren("732829320")
    with pytest.raises(ValidationError):
        validate_siren("732829321")
    validate_timezone("Europe/Paris")
    with pytest.raises(ValidationError):
        validate_timezone("Europe/Lille")


def test_venue_full_clean_checks_the_siret(network):
    venue = VenueFactory.build(network=network, siret="12345678901234")
    with pytest.raises(ValidationError) as caught:
        venue.full_clean()
    assert "siret" in caught.value.message_dict


def test_a_resource_cannot_be_part_of_another_venue_or_of_itself(venue, other_venue):
    hall = ResourceFactory(venue=venue)
    elsewhere = ResourceFactory.build(venue=other_venue, parent=hall)
    with pytest.raises(ValidationError):
        elsewhere.full_clean()
    child = ResourceFactory(venue=venue, parent=hall)
    hall.parent = child
    with pytest.raises(ValidationError):
        hall.full_clean()
