"""The platform's WSGI application with its clock moved by BENCH_CLOCK_OFFSET seconds, for the door bench.

The bench venues open on weekdays in the daytime; a bench started at night or on a Sunday would measure
nothing but `outside_hours` refusals. The access bench therefore serves the platform as if it were a
weekday morning: every `lieux.core.time.now()` (which reads `django.utils.timezone.now`) is the real
instant plus a fixed offset, chosen by bench/access.py and 0 when the venues are already open. The code
under measurement is unchanged; only the instant it reads is.
"""

import os
from datetime import datetime, timedelta

from django.utils import timezone

_OFFSET = timedelta(seconds=float(os.environ.get("BENCH_CLOCK_OFFSET", "0")))
_real_now = timezone.now


def _shifted_now() -> datetime:
    return _real_now() + _OFFSET


if _OFFSET:
    timezone.now = _shifted_now  # before the platform is imported, so every reader sees the same clock

from lieux.wsgi import application  # noqa: E402 - must load after the clock is moved

__all__ = ["application"]
