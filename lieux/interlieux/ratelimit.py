"""A sliding-window rate limit per key (a door device), in process memory.

Each process counts for itself: with N server processes a device gets up to N × the limit. That bounds
what one runaway or hostile device costs without a shared store; the hard limit belongs in the reverse
proxy (docs/interlieux.md).
"""

import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimit:
    def __init__(
        self, *, limit: int, per_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.per_seconds = per_seconds
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one request for `key`; False when it goes beyond `limit` within the window."""
        at = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= at - self.per_seconds:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(at)
            if len(self._hits) > 10_000:
                # Forget idle keys so the table stays small whatever the number of devices seen.
                for idle in [k for k, v in self._hits.items() if not v or v[-1] <= at - self.per_seconds]:
                    del self._hits[idle]
            return True

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


# 20 requests a second per device: forty times the 9 o'clock rush at a busy door.
DEVICE_LIMIT = SlidingWindowLimit(limit=20, per_seconds=1.0)
