"""The day and week pictures read a fixed number of queries, however many resources and bookings."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ResourceFactory, UserFactory, add_prices, add_role
from tests.web.conftest import DAY, book, client_for

DAY_VIEW = f"/lieux/la-coroutine/?date={DAY.isoformat()}"
WEEK_VIEW = f"/lieux/la-coroutine/salle-ada/?week={DAY.isoformat()}"
# Session and user (2), venue, resources and their prices (2), the viewer's roles (2, and 2 more inside
# bookings_for), opening hours, closures (2), free/busy (2), readable bookings, membership or
# organisations, the network for the header: 18 at most, none of them per resource or per booking.
MAX_QUERIES = 18


def fill(venue, room, member, *, resources: int, people: int):
    """`resources` more rooms, and each of `people` more people books an hour of each room on three days."""
    rooms = [room, *(ResourceFactory(venue=venue, slug=f"salle-{i}") for i in range(resources))]
    for r in rooms:
        add_prices(r, hour_member="10", hour_public="15")
    users = [member, *(UserFactory() for _ in range(people))]
    for i, user in enumerate(users):
        add_role(user, venue)
        for r in rooms:
            for offset in (-1, 0, 1):
                book(user, r, (8 + 2 * i,), (9 + 2 * i,), day=DAY + timedelta(days=offset))


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("who", ["anonymous", "member", "manager"])
def test_the_day_view_does_not_grow_with_resources_or_bookings(
    who, django_assert_max_num_queries, client, venue, room, member, manager
):
    viewer = {"anonymous": client, "member": client_for(member), "manager": client_for(manager)}[who]
    book(member, room, (19,), (20,))
    small = queries(viewer, DAY_VIEW)

    fill(venue, room, member, resources=5, people=4)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = viewer.get(DAY_VIEW)
    assert sum(len(column.blocks) for _, column in response.context["view"].columns) >= 10
    assert queries(viewer, DAY_VIEW) == small


@pytest.mark.parametrize("who", ["anonymous", "member", "manager"])
def test_the_week_view_does_not_grow_with_bookings(
    who, django_assert_max_num_queries, client, venue, room, member, manager
):
    viewer = {"anonymous": client, "member": client_for(member), "manager": client_for(manager)}[who]
    book(member, room, (19,), (20,))
    small = queries(viewer, WEEK_VIEW)

    fill(venue, room, member, resources=2, people=4)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = viewer.get(WEEK_VIEW)
    assert sum(len(column.blocks) for column in response.context["view"].columns) >= 6
    assert queries(viewer, WEEK_VIEW) == small
