"""A cursor whose statements PostgreSQL prepares once per connection, for the few raw statements that run at
every request of a busy path (door checks, booking creation).

Such a statement is the same text at every request, and planning it costs more than running it (a
booking's facts: about 0.7 ms of planning for 0.2 ms of execution). Django's own cursor binds parameters on
the client and never prepares; this cursor binds them on the server with `prepare=True`, on the same
connection and in the same transaction, and goes through Django's cursor wrapper like any other statement
(errors, query log, `CaptureQueriesContext`). SQLite runs the same text through Django's ordinary cursor.
Parameters are written `%s` or `%(name)s`, as for Django's cursor. `columns` and `instance` turn a model's
columns in such a statement back into a model instance, as the ORM would.

Prepared statements belong to a server connection: a pooler in transaction mode in front of PostgreSQL
must keep them (PgBouncer ≥ 1.21 with `max_prepared_statements`); see docs/exploitation.md.
"""

from collections.abc import Sequence
from typing import Any, TypeVar, cast

import psycopg
from django.db import connection
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django.db.backends.utils import CursorWrapper
from django.db.models import Model

M = TypeVar("M", bound=Model)


class _PreparingCursor(psycopg.Cursor):
    """Server-side binding, every statement prepared (Django's connections set no prepare threshold)."""

    def execute(self, query, params=None, *, prepare=None, binary=None):  # type: ignore[no-untyped-def]
        return super().execute(query, params, prepare=True, binary=binary)

    def _send_query_prepared(self, name, pgq, *, binary=None):  # type: ignore[no-untyped-def]
        # psycopg records the statement sent only when it is not prepared; Django's query log reads it.
        self._query = pgq
        super()._send_query_prepared(name, pgq, binary=binary)


def cursor() -> CursorWrapper:
    """A cursor whose statements are prepared on PostgreSQL; Django's ordinary cursor elsewhere."""
    if connection.vendor != "postgresql" or not is_psycopg3:
        return connection.cursor()
    # What Django's BaseDatabaseWrapper._cursor() does for its own cursors, with a server-binding one.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        pg = connection.connection
        if pg.prepare_threshold is None:
            # Django turns psycopg's statement cache off (None) to suit poolers. Its own client-binding
            # cursors never prepare, whatever the threshold; 0 lets this cursor's `prepare=True` count.
            pg.prepare_threshold = 0
        raw: Any = _PreparingCursor(pg)
    connection.validate_thread_sharing()
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def columns(model: type[Model], alias: str) -> str:
    """The select list of every concrete column of `model`, in the order `instance` expects."""
    return ", ".join(f"{alias}.{field.column}" for field in model._meta.concrete_fields)


# (model, backend) → the attnames of its concrete fields, and each one's column and converters, in order.
_Plan = tuple[list[str], list[tuple[Any, list[Any]]]]
_plans: dict[tuple[type[Model], str], _Plan] = {}


def _plan(model: type[Model]) -> _Plan:
    key = (model, connection.vendor)
    plan = _plans.get(key)
    if plan is None:
        names, steps = [], []
        for field in model._meta.concrete_fields:
            column = field.get_col(model._meta.db_table)
            converters = connection.ops.get_db_converters(column) + cast(Any, field).get_db_converters(
                connection
            )
            names.append(field.attname)
            steps.append((column, converters))
        plan = _plans[key] = (names, steps)
    return plan


def instance(model: type[M], values: Sequence[Any]) -> M:
    """The instance of `model` whose concrete columns are `values` (as `columns` lists them), converted as
    the ORM converts the rows of a query (SQLite gives dates and times back as text)."""
    names, steps = _plan(model)
    converted = []
    for (column, converters), value in zip(steps, values, strict=True):
        if value is not None:
            for converter in converters:
                value = converter(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, names, converted)
