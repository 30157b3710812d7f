"""Database helpers that hide the differences between SQLite and PostgreSQL from services."""

import random
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import DatabaseError, OperationalError, connection, models, transaction

T = TypeVar("T")

# Deadlock and serialization failure: the whole transaction may be replayed safely.
RETRYABLE_SQLSTATES = {"40P01", "40001"}


def sqlstate(error: BaseException) -> str | None:
    cause = error.__cause__ or error
    return getattr(cause, "sqlstate", None) or getattr(getattr(cause, "diag", None), "sqlstate", None)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def atomic_with_retry(work: Callable[[], T], *, attempts: int = 4) -> T:
    """Run `work` in its own transaction, replaying it on deadlock, serialization failure or a busy
    SQLite file. Domain errors and integrity errors go straight through to the caller."""
    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return work()
        except (OperationalError, DatabaseError) as error:
            busy = isinstance(error, OperationalError) and "locked" in str(error)
            if attempt == attempts - 1 or not (busy or sqlstate(error) in RETRYABLE_SQLSTATES):
                raise
            time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")


def add_to_totals(
    model: type[models.Model], *, key: Sequence[str], added: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Add each row's `added` values to the row of `model` that has its `key` values, creating it when
    missing, in one `INSERT … ON CONFLICT (key) DO UPDATE` (PostgreSQL, and SQLite ≥ 3.24): no lost update
    between concurrent writers, since the database adds under the row's lock. `key` and `added` are column
    names, `key` those of a unique constraint; a row is (*key values, *added values). One statement may not
    update a row twice: the caller gives each key once. Rows are written in key order, so that two writers
    touching the same rows always lock them in the same order and never wait on each other."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(name) for name in (*key, *added))
    one_row = "(" + ", ".join(["%s"] * (len(key) + len(added))) + ")"
    sums = ", ".join(f"{quote(name)} = {_sum(model, table, name)}" for name in added)
    ordered = sorted(rows, key=lambda row: tuple(row[: len(key)]))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES {', '.join([one_row] * len(ordered))} "  # names quoted
            f"ON CONFLICT ({', '.join(quote(name) for name in key)}) DO UPDATE SET {sums}",
            [value for row in ordered for value in row],
        )


def _sum(model: type[models.Model], table: str, column: str) -> str:
    """The stored value plus the added one. SQLite keeps decimals as binary floats, so a debt paid in full
    (0.10 + 0.20 − 0.30) would leave 5.55e-17 behind and still compare above zero: decimal columns are
    rounded to their places at each addition (exact already on PostgreSQL, where it changes nothing)."""
    quote = connection.ops.quote_name
    total = f"{table}.{quote(column)} + excluded.{quote(column)}"
    field = next(f for f in model._meta.concrete_fields if f.column == column)
    if isinstance(field, models.DecimalField):
        return f"ROUND({total}, {int(field.decimal_places)})"
    return total
