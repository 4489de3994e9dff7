"""``manage.py create_api_key --name NAME [--scope read|write]``: prints the key once."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from supportdesk.api.keys import api_key_create
from supportdesk.models import ApiKey


class Command(BaseCommand):
    help = "Create an API key for an integration and print it once (only its hash is stored)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--name", required=True, help="Which integration the key is for.")
        parser.add_argument("--scope", choices=ApiKey.Scope.values, default=ApiKey.Scope.READ)

    def handle(self, *args, name: str, scope: str, **options) -> None:
        try:
            issued = api_key_create(name=name, scope=scope)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(issued.raw)
        self.stderr.write(
            f"API key {issued.api_key.prefix}… ({scope}) for {issued.api_key.name}. "
            "Store it now: it cannot be shown again. Send it as 'Authorization: Bearer <key>'."
        )
