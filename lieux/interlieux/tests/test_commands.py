from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from lieux.interlieux.models import DoorDevice, NetworkKey
from lieux.interlieux.services.devices import device_for_token


def test_keygen_creates_then_rotates_the_network_key(network):
    call_command("interlieux", "keygen", stdout=StringIO())
    call_command("interlieux", "keygen", "--network", network.slug, stdout=StringIO())
    keys = list(NetworkKey.objects.order_by("created_at", "pk"))
    assert len(keys) == 2
    assert keys[0].retired_at is not None and keys[0].valid_until is not None
    assert keys[1].retired_at is None


def test_keygen_refuses_an_unknown_network(network):
    with pytest.raises(CommandError):
        call_command("interlieux", "keygen", "--network", "nowhere")


def test_device_add_prints_a_working_token_once(venue):
    out, err = StringIO(), StringIO()
    call_command(
        "interlieux", "device", "add", "--venue", venue.slug, "--name", "Porte", stdout=out, stderr=err
    )
    token = out.getvalue().strip()
    device = device_for_token(token)
    assert device is not None and device.venue == venue
    assert token not in device.token_digest and DoorDevice.objects.count() == 1
    listing = StringIO()
    call_command("interlieux", "device", "list", stdout=listing)
    assert token not in listing.getvalue() and "Porte" in listing.getvalue()
    call_command("interlieux", "device", "revoke", "--id", str(device.pk), stdout=StringIO())
    assert device_for_token(token) is None


def test_device_add_refuses_an_unknown_venue(db):
    with pytest.raises(CommandError):
        call_command("interlieux", "device", "add", "--venue", "nowhere", "--name", "Porte")
