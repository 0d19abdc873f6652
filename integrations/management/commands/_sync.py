"""Shared by `sync_shopify` and `sync_perp`: arguments, a text progress bar, the summary."""

from django.core.management.base import BaseCommand, CommandError

from integrations.models import SyncStatus
from integrations.sync import RESOURCES, run_sync


class SyncCommand(BaseCommand):
    provider = ""

    def add_arguments(self, parser):
        parser.add_argument(
            "--resource",
            choices=[*RESOURCES, "all"],
            default="all",
            help="customers (match + refresh everyone), orders (refresh linked) or all.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, resource: str, no_progress: bool, **options):
        failed = False
        for name in RESOURCES if resource == "all" else [resource]:
            self.stdout.write(f"Syncing {self.provider} {name}...")
            log = run_sync(
                provider=self.provider,
                resource=name,
                progress=None if no_progress else self.progress,
            )
            if not no_progress:
                self.stdout.write("")
            style = self.style.SUCCESS if log.status == SyncStatus.SUCCEEDED else self.style.ERROR
            self.stdout.write(
                style(
                    f"{name}: {log.status} · seen {log.items_seen}, linked {log.items_created}, "
                    f"updated {log.items_updated}, failed {log.items_failed}"
                )
            )
            if log.error:
                self.stdout.write(log.error)
            failed = failed or log.status == SyncStatus.FAILED
        if failed:
            raise CommandError(f"{self.provider} sync failed; see the sync log in the admin.")

    def progress(self, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        self.stdout.write(f"\r[{bar}] {done}/{total}", ending="")
        self.stdout.flush()
