"""Full product catalog sync from Shopify into product knowledge (cron or by hand)."""

from django.core.management.base import BaseCommand, CommandError

from integrations.clients import ProviderError
from knowledge.services import sync_catalog


class Command(BaseCommand):
    help = "Page through the Shopify catalog, upsert every product, delete the ones gone."

    def add_arguments(self, parser):
        parser.add_argument(
            "--page-size", type=int, default=None, help="Default: the most Shopify's cost allows."
        )

    def handle(self, *args, page_size: int | None, **options):
        try:
            log = sync_catalog(page_size=page_size)
        except ProviderError as exc:
            raise CommandError(f"Shopify sync failed: {exc}") from exc
        self.stdout.write(
            f"Products: {log.items_seen} seen, {log.items_created} new, "
            f"{log.items_updated} changed (sync log {log.pk})."
        )
