"""The platform speaks French unless the person chooses English."""

from django.test import override_settings


@override_settings(LANGUAGE_CODE="fr")
def test_pages_are_in_french_by_default(client, venue):
    page = client.get("/").content.decode()
    assert '<html lang="fr">' in page
    assert "géré par et pour les lieux du réseau" in page


@override_settings(LANGUAGE_CODE="fr")
def test_domain_errors_are_translated(member, room):
    import pytest
    from django.utils import translation

    from lieux.booking.errors import BookingConflict
    from lieux.booking.services import create_booking
    from tests.factories import at, future_day

    day = future_day()
    create_booking(actor=member, resource=room, starts_at=at(day, 10), ends_at=at(day, 11), title="A")
    with translation.override("fr"), pytest.raises(BookingConflict) as caught:
        create_booking(actor=member, resource=room, starts_at=at(day, 10), ends_at=at(day, 11), title="B")
    assert str(caught.value.message).startswith("Créneau déjà pris pour Salle Ada")
