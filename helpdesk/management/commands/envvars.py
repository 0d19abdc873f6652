"""`manage.py envvars`: the environment variables the settings read, as a Markdown table."""

from django.conf import settings
from django.core.management.base import BaseCommand

from helpdesk.envvars import markdown_table


class Command(BaseCommand):
    help = "Print every environment variable the settings read (name, default, meaning)."

    def handle(self, *args, **options):
        # Paths under the checkout print relative to it, so the table is the same on every machine.
        table = markdown_table(settings.ENV.recorded).replace(f"{settings.BASE_DIR}/", "")
        self.stdout.write(table)
