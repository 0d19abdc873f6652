"""Full product catalog sync from Shopify into product knowledge (cron or by hand).

Large catalogs go through a Shopify bulk operation, small ones through cost-sized pages; the
progress is drawn as a bar and kept on the sync log, and a run interrupted by a crash is resumed
by the next one (docs/shopify.md).
"""

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from integrations.clients import ProviderError
from knowledge.catalog_sync import MODES, POLL_SECONDS, SyncProgress, sync_catalog

BAR_WIDTH = 30


def render(update: SyncProgress) -> str:
    if update.phase == "exporting":
        return f"Shopify is exporting the catalog: {update.done:,} objects so far"
    if not update.total:
        return f"Importing: {update.done:,} products"
    share = min(1.0, update.done / update.total)
    filled = round(share * BAR_WIDTH)
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    return f"[{bar}] {update.done:,}/{update.total:,} products ({share:.0%})"


class Command(BaseCommand):
    help = "Sync every Shopify product into product knowledge; resumes an interrupted sync."

    def add_arguments(self, parser):
        parser.add_argument(
            "--mode",
            choices=MODES,
            default="auto",
            help="bulk operation, cost-sized pages, or auto (bulk above 250 products).",
        )
        parser.add_argument(
            "--restart", action="store_true", help="Abandon an unfinished sync and start over."
        )
        parser.add_argument("--poll-seconds", type=float, default=POLL_SECONDS)

    def handle(self, *args, mode: str, restart: bool, poll_seconds: float, **options):
        last_line = ""

        def progress(update: SyncProgress) -> None:
            nonlocal last_line
            line = render(update)
            if line != last_line:
                # One line redrawn in place on a terminal, one line per update in a log file.
                self.stdout.write(f"\r{line}" if self.stdout.isatty() else line, ending="")
                self.stdout.write("" if self.stdout.isatty() else "\n", ending="")
                last_line = line

        try:
            log = sync_catalog(
                mode=mode, restart=restart, progress=progress, poll_seconds=poll_seconds
            )
        except (ProviderError, ApplicationError) as exc:
            raise CommandError(f"Shopify sync failed: {exc} (resume it by running again)") from exc
        finally:
            if last_line and self.stdout.isatty():
                self.stdout.write("")
        self.stdout.write(
            f"Products: {log.items_seen} seen, {log.items_created} new, "
            f"{log.items_updated} changed, {log.mode} mode (sync log {log.pk})."
        )
