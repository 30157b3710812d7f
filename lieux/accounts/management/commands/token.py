from django.core.management.base import BaseCommand, CommandError

from lieux.accounts.services import issue_api_token
from lieux.core.errors import DomainError


class Command(BaseCommand):
    help = "Print a new API token for an existing person (shown once; only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--label", default="cli")

    def handle(self, *args, email: str, label: str, **options):
        try:
            _token, raw = issue_api_token(email=email, label=label)
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        self.stdout.write(raw)
