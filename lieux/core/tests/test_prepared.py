"""The preparing cursor runs the same statements as Django's, logs them the same way, and on PostgreSQL
plans each one once per connection."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lieux.core import prepared

pytestmark = pytest.mark.django_db

STATEMENT = "SELECT %(a)s + %(b)s, %(a)s"


def run(a: int, b: int):
    with prepared.cursor() as cursor:
        cursor.execute(STATEMENT, {"a": a, "b": b})
        return cursor.fetchone()


def test_named_and_positional_parameters_give_the_same_rows_as_djangos_cursor():
    assert tuple(run(2, 3)) == (5, 2)
    with prepared.cursor() as cursor, connection.cursor() as plain:
        cursor.execute("SELECT %s * %s", [6, 7])
        plain.execute("SELECT %s * %s", [6, 7])
        assert cursor.fetchone()[0] == plain.fetchone()[0] == 42


def test_statements_are_logged_like_any_other():
    with CaptureQueriesContext(connection) as captured:
        run(1, 1)
    assert len(captured.captured_queries) == 1
    assert "SELECT" in captured.captured_queries[0]["sql"]


def test_postgresql_prepares_a_statement_once_and_reuses_it(postgres):
    def prepared_here() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%$1 + $2%"]
            )
            return cursor.fetchone()[0]

    before = prepared_here()
    assert tuple(run(1, 2)) == (3, 1)
    assert tuple(run(10, 20)) == (30, 10)
    assert prepared_here() == before + 1
