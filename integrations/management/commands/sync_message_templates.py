"""`manage.py sync_message_templates`: refresh the WhatsApp templates from Twilio now."""

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from integrations.clients import ProviderError
from integrations.message_templates import sync_message_templates


class Command(BaseCommand):
    help = "Sync WhatsApp templates and their approval status from Twilio's Content API."

    def handle(self, *args, **options) -> None:
        try:
            count = sync_message_templates()
        except (ApplicationError, ProviderError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Synced {count} template(s).")
