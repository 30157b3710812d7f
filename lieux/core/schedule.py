"""Periodic jobs run by `lieux worker`. Apps register theirs in AppConfig.ready(), so the kernel knows
no app. Every job must be idempotent: a worker restarted mid-run, or two workers, do no harm."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: int
    run: Callable[[], object]


JOBS: dict[str, PeriodicJob] = {}


def every(seconds: int, name: str) -> Callable[[Callable[[], object]], Callable[[], object]]:
    def register(func: Callable[[], object]) -> Callable[[], object]:
        JOBS[name] = PeriodicJob(name, seconds, func)
        return func

    return register
