"""A small harness that makes many clients book at the same instant, each on its own connection."""

import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, connections

from lieux.booking.errors import BookingConflict
from lieux.booking.services import create_booking


@dataclass
class RaceOutcome:
    counts: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def race(
    *,
    actors,
    resources,
    first_start,
    slots: int,
    length: timedelta,
    step: timedelta,
    attempts_each: int,
    seed: int = 7,
) -> RaceOutcome:
    """Each actor (one thread each) tries `attempts_each` random slots of `length` on a grid of `step`
    over `slots` steps, on random `resources`; all threads start together on a barrier."""
    outcome = RaceOutcome()
    lock = threading.Lock()
    barrier = threading.Barrier(len(actors))

    def client(index: int, actor) -> None:
        rng = random.Random(seed + index)
        try:
            barrier.wait()
            for _ in range(attempts_each):
                start = first_start + step * rng.randrange(slots)
                resource = rng.choice(resources)
                try:
                    create_booking(
                        actor=actor,
                        resource=resource,
                        starts_at=start,
                        ends_at=start + length,
                        title=f"client {index}",
                    )
                    result = "booked"
                except BookingConflict:
                    result = "conflict"
                except Exception as error:
                    result = "error"
                    with lock:
                        outcome.errors.append(f"{type(error).__name__}: {error}")
                with lock:
                    outcome.counts[result] += 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(i, a)) for i, a in enumerate(actors)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return outcome


OVERLAPS_SQL = """
    SELECT COUNT(*) FROM booking_occupancy a JOIN booking_occupancy b
      ON a.resource_id = b.resource_id AND a.id < b.id
     WHERE a.is_active AND b.is_active AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
"""


def count_overlaps() -> int:
    with connection.cursor() as cursor:
        cursor.execute(OVERLAPS_SQL)
        return cursor.fetchone()[0]


def all_at_once(calls: list, *, refused: type[Exception]) -> tuple[int, int, list[str]]:
    """Run each of `calls` in its own thread and connection, all released together on a barrier: how many
    went through, how many were refused with `refused`, and any other error."""
    barrier = threading.Barrier(len(calls))
    lock = threading.Lock()
    done = declined = 0
    errors: list[str] = []

    def client(call) -> None:
        nonlocal done, declined
        try:
            barrier.wait()
            call()
            result = "done"
        except refused:
            result = "refused"
        except Exception as error:
            result = f"{type(error).__name__}: {error}"
        finally:
            connections.close_all()
        with lock:
            if result == "done":
                done += 1
            elif result == "refused":
                declined += 1
            else:
                errors.append(result)

    threads = [threading.Thread(target=client, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return done, declined, errors
