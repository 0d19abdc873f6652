"""Background work of the tickets app that no request waits for."""

from dataclasses import asdict

from django_tasks import task

from core import queues
from tickets.attachment_backfill import DEFAULT_BATCH_SIZE, backfill_attachment_batch


@task(queue_name=queues.BULK)
def backfill_attachments_task(*, after_pk: int = 0, batch_size: int = DEFAULT_BATCH_SIZE) -> dict:
    """One batch of the attachment backfill, then the next batch as a new task: a worker that
    stops loses at most the batch it was on, which its retry or a new run does again."""
    report = backfill_attachment_batch(after_pk=after_pk, batch_size=batch_size)
    if report.examined == batch_size:
        backfill_attachments_task.enqueue(after_pk=report.last_pk, batch_size=batch_size)
    return asdict(report)
