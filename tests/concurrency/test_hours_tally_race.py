"""Concurrent validations in one project never lose hours on the public pages.

Twelve contributions to a project that asks no budget (so no budget lock serialises their validations),
one person's and one activity's each month, validated by twelve threads at the same instant, each on its
own connection: every validation adds to the same ActivityHours and PersonHours rows. The rows must then
hold what recounting the contributions gives.

The variant without the guard (PostgreSQL only: SQLite's IMMEDIATE transactions serialise writers by
themselves) replaces the single INSERT … ON CONFLICT DO UPDATE by a read, a little think time and a write,
as an ORM get-or-create then save would: the same race then loses additions or trips on the unique key.
That shows the test would catch a missing guard.
"""

import threading
import time
from collections import Counter
from datetime import date

import pytest
from django.db import connections

from lieux.contributions.models import Contribution, ContributionStatus, Scope
from lieux.contributions.services import hours as hours_services
from lieux.contributions.services.hours import recount, stored
from lieux.contributions.services.review import review_contribution
from tests import contributions_data as data
from tests.factories import UserFactory, add_role

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS = 12


@pytest.fixture
def scene(network, venue):
    steward = UserFactory(email="soucieux@example.org")
    add_role(steward, venue)
    project = data.project(network, "jardin", venue=venue, stewards=[steward])
    (garden,) = data.activities(network, "Jardin")
    person = UserFactory(email="jardiniere@example.org")
    contributions = []
    for i in range(CLIENTS):
        contribution = Contribution.objects.create(
            project=project,
            contributor=person,
            declared_by=person,
            performed_on=date(2026, 2, 1 + i),
            hours=f"{i + 1}.25",
            description=f"Désherbage {i}",
            status=ContributionStatus.SUBMITTED,
        )
        contribution.activities.add(garden)
        contributions.append(contribution)
    return steward, project, contributions


def validate_all_at_once(steward, contributions) -> Counter:
    barrier = threading.Barrier(len(contributions))
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def client(contribution) -> None:
        try:
            barrier.wait()
            review_contribution(contribution=contribution, reviewer=steward, verdict="validate")
            result = "validated"
        except Exception as error:
            result = type(error).__name__
        finally:
            connections.close_all()
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=client, args=(c,)) for c in contributions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def tally_matches(project) -> bool:
    return stored(Scope.PROJECT, project.pk) == recount(Scope.PROJECT, project.pk)


def test_concurrent_validations_add_every_hour(scene):
    steward, project, contributions = scene
    assert validate_all_at_once(steward, contributions) == Counter({"validated": CLIENTS})
    assert tally_matches(project)


@pytest.fixture
def guard_removed(postgres, monkeypatch):
    """Totals read, then written after a little think time, as get-or-create then save would."""

    def read_think_write(model, *, key, added, rows):
        for row in rows:
            where = dict(zip(key, row[: len(key)], strict=True))
            amounts = dict(zip(added, row[len(key) :], strict=True))
            found = model.objects.filter(**where).first()
            time.sleep(0.05)
            if found is None:
                model.objects.create(**where, **amounts)
            else:
                for name, amount in amounts.items():
                    setattr(found, name, getattr(found, name) + amount)
                found.save()

    monkeypatch.setattr(hours_services, "add_to_totals", read_think_write)


def test_without_the_guard_the_same_race_loses_hours(guard_removed, scene):
    """Shows that test_concurrent_validations_add_every_hour would catch a missing guard."""
    steward, project, contributions = scene
    outcomes = validate_all_at_once(steward, contributions)
    assert outcomes["validated"] < CLIENTS or not tally_matches(project)
