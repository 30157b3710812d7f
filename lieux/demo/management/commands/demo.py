from django.core.management.base import BaseCommand

from lieux.demo.load import load


class Command(BaseCommand):
    help = (
        "Load the demo network MONSCOBAR (Baraka, La Coroutine, Mons Fabrica) with people and a few weeks "
        "of bookings around today. Safe to run again: it only adds what is missing. Does not serve."
    )

    def handle(self, *args, **options):
        load(stdout=self.stdout)
