"""Clients logged in as the shared fixtures' people, and what the web tests book."""

import pytest
from django.test import Client

from lieux.booking.services import create_booking
from tests.factories import ResourceFactory, at, future_day

DAY = future_day()  # a Tuesday one or two weeks ahead


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_member(member) -> Client:
    return client_for(member)


@pytest.fixture
def as_manager(manager) -> Client:
    return client_for(manager)


@pytest.fixture
def as_other_manager(other_manager) -> Client:
    return client_for(other_manager)


@pytest.fixture
def workshop(venue):
    """A resource whose bookings wait for the team's approval."""
    return ResourceFactory(venue=venue, name="Atelier", slug="atelier", approval_required=True)


def book(user, resource, h1, h2, *, day=DAY, title="Réunion", **kwargs):
    return create_booking(
        actor=user, resource=resource, starts_at=at(day, *h1), ends_at=at(day, *h2), title=title, **kwargs
    )


def slot(day=DAY, start="10:00", end="11:00", **extra) -> dict:
    """The fields of the booking and move forms."""
    return {"date": day.isoformat(), "start": start, "end": end, **extra}
