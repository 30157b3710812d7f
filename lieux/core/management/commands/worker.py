import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from lieux.core.schedule import JOBS

log = logging.getLogger("lieux.worker")


class Command(BaseCommand):
    help = "Run the periodic jobs (hold expiry…) until stopped. Run one per deployment."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run every job once and exit")

    def handle(self, *args, once: bool, **options):
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        due = dict.fromkeys(JOBS, 0.0)
        self.stdout.write(f"Worker started: {', '.join(sorted(JOBS)) or 'no job'}")
        while not stopping:
            for name, job in JOBS.items():
                if time.monotonic() < due[name]:
                    continue
                try:
                    result = job.run()
                    self.stdout.write(f"{name}: {result}")
                except Exception:
                    # One failing job must not stop the others; it is retried at its next tick.
                    log.exception("periodic job %s failed", name)
                due[name] = time.monotonic() + job.every_seconds
            if once:
                return
            close_old_connections()  # a long-lived process must not keep a broken or stale connection
            time.sleep(1)
