"""Database helpers that hide the differences between SQLite and PostgreSQL from services."""

import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, OperationalError, connection, transaction

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
