"""`manage.py envvars`: the environment variables the settings read, as a Markdown table."""

from django.conf import settings
from django.core.management.base import BaseCommand

from helpdesk.envvars import markdown_table


class Command(BaseCommand):
    help = "Print every environment variable the settings read (name, default, meaning)."

    def handle(self, *args, **options):
        self.stdout.write(markdown_table(settings.ENV.recorded))
