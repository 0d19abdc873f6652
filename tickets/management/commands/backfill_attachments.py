"""Record the sha256, sniffed type and size of stored ticket files that lack them (migration
0006's rows) and queue their thumbnails; `--queue` leaves it to the bulk worker instead."""

from django.core.management.base import BaseCommand, CommandError

from tickets.attachment_backfill import DEFAULT_BATCH_SIZE, BackfillReport, backfill_attachments
from tickets.tasks import backfill_attachments_task


def describe(report: BackfillReport) -> str:
    return (
        f"{report.examined} examined, {report.digested} digested, "
        f"{report.previews_queued} previews queued, {report.missing} missing"
    )


class Command(BaseCommand):
    help = "Backfill sha256, sniffed content type, size and previews of stored ticket files."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
        parser.add_argument(
            "--after", type=int, default=0, help="Resume after this attachment id (a batch's last)."
        )
        parser.add_argument(
            "--queue", action="store_true", help="Run it as batches of bulk-queue tasks."
        )

    def handle(self, *args, batch_size: int, after: int, queue: bool, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if queue:
            backfill_attachments_task.enqueue(after_pk=after, batch_size=batch_size)
            self.stdout.write("Backfill queued on the bulk queue.")
            return
        total = backfill_attachments(
            after_pk=after,
            batch_size=batch_size,
            on_batch=lambda batch: self.stdout.write(
                f"Batch up to attachment {batch.last_pk}: {describe(batch)}."
            ),
        )
        self.stdout.write(f"Done: {describe(total)}.")
