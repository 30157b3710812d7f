from django.core.management.base import BaseCommand

from lieux.booking.services import expire_holds


class Command(BaseCommand):
    help = "Release booking holds past their expiry (run every minute by cron or the worker)."

    def handle(self, *args, **options):
        self.stdout.write(f"{expire_holds()} hold(s) released.")
