import os
import sys

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the platform with gunicorn (production-grade WSGI server)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("LIEUX_BIND", "127.0.0.1:8000"))
        # One process per core (at least two), four threads each: the configuration the benchmarks measure
        # (bench/README.md); more processes than cores only make requests wait for a time slice.
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        workers = int(os.environ.get("WEB_CONCURRENCY", str(max(2, cores))))
        parser.add_argument("--workers", type=int, default=workers)
        parser.add_argument("--threads", type=int, default=int(os.environ.get("LIEUX_THREADS", "4")))

    def handle(self, *args, bind: str, workers: int, threads: int, **options):
        from gunicorn.app.wsgiapp import WSGIApplication

        argv = [
            "gunicorn",
            "lieux.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--access-logfile",
            "-",
            "--timeout",
            "60",
        ]
        self.stdout.write(f"Lieux Communs on http://{bind}/")
        sys.argv = argv  # gunicorn reads its options from the command line
        WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").run()
