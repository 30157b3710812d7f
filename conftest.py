"""Fixtures shared by the whole suite.

The suite runs on the database DATABASE_URL names: SQLite by default, PostgreSQL when `make test` runs its
second pass. Tests that only make sense on one backend say so with the `postgres`/`sqlite` fixtures.
"""

import pytest

BACKEND_FIXTURES = {"postgres": "postgresql", "sqlite": "sqlite"}


def pytest_collection_modifyitems(config, items):
    """Tests tied to one backend (they ask for the `postgres` or `sqlite` fixture) are deselected in the
    other backend's pass rather than skipped: each runs, in full, in its own pass of `make test`."""
    from django.db import connection

    keep, drop = [], []
    for item in items:
        wanted = {BACKEND_FIXTURES[f] for f in getattr(item, "fixturenames", ()) if f in BACKEND_FIXTURES}
        (drop if wanted and connection.vendor not in wanted else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def postgres(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL-only test: runs in the PostgreSQL pass of `make test`")


@pytest.fixture
def sqlite(db):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite-only test: runs in the SQLite pass of `make test`")


@pytest.fixture
def network(db):
    from tests.factories import NetworkFactory

    return NetworkFactory()


@pytest.fixture
def venue(network):
    from tests.factories import VenueFactory

    return VenueFactory(network=network, name="La Coroutine", slug="la-coroutine")


@pytest.fixture
def other_venue(network):
    from tests.factories import VenueFactory

    return VenueFactory(network=network, name="Baraka", slug="baraka", city="Roubaix")


@pytest.fixture
def room(venue):
    from tests.factories import ResourceFactory

    return ResourceFactory(venue=venue, name="Salle Ada", slug="salle-ada")


@pytest.fixture
def member(venue):
    from tests.factories import UserFactory, add_role

    user = UserFactory(email="membre@example.org", first_name="Camille")
    add_role(user, venue)
    return user


@pytest.fixture
def other_member(venue):
    """A member of the same venue as `member`, who must see only free/busy of `member`'s bookings."""
    from tests.factories import UserFactory, add_role

    user = UserFactory(email="voisine@example.org", first_name="Alix")
    add_role(user, venue)
    return user


@pytest.fixture
def stranger(db):
    from tests.factories import UserFactory

    return UserFactory(email="ailleurs@example.org", first_name="Dominique")


@pytest.fixture
def manager(venue):
    from lieux.venues.models import Role
    from tests.factories import UserFactory, add_role

    user = UserFactory(email="gestion@example.org", first_name="Sacha")
    add_role(user, venue, Role.MANAGER)
    return user


@pytest.fixture
def other_manager(other_venue):
    from lieux.venues.models import Role
    from tests.factories import UserFactory, add_role

    user = UserFactory(email="gestion-baraka@example.org", first_name="Noor")
    add_role(user, other_venue, Role.MANAGER)
    return user


@pytest.fixture
def flushable_legal_records(transactional_db):
    """A transactional test ends with a flush, which SQLite runs as DELETEs that the immutability triggers
    (billing migration 0002) refuse for issued invoices. Empty the tables with the triggers lifted, then
    put them back. PostgreSQL flushes with TRUNCATE, which row triggers do not see."""
    yield
    from importlib import import_module

    from django.core.management import call_command
    from django.db import connection, connections

    if connection.vendor != "sqlite":
        return
    connections.close_all()
    guards = import_module("lieux.billing.migrations.0002_immutable_records")
    with connection.schema_editor() as editor:
        guards.uninstall(None, editor)
    try:
        call_command("flush", interactive=False, verbosity=0)
    finally:
        with connection.schema_editor() as editor:
            guards.install(None, editor)
