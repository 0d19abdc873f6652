"""Backfill of ticket files stored before their digests were recorded.

Migration 0006 turned the old JSON links into `Attachment` rows that point at stored bytes but
carry no sha256, no sniffed content type (so they download instead of opening inline), often no
size and no thumbnail. The backfill reads each such file once, records what a new upload records
(`tickets.attachments.digest_stored_file`: core.files' digest and sniffer) and queues its
thumbnail as an upload does (`tickets.previews.schedule_preview`).

Batched by primary key: each batch reads its files with no transaction open, then writes its
rows in one short transaction, only where a row is still the stored file it read. A run can stop
anywhere and start again (from the start, or `after_pk` the last batch it reported): rows already
filled are not selected again, so running it twice changes nothing more.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet

from core.files import PREVIEWABLE_TYPES, Digest
from tickets.attachments import digest_stored_file
from tickets.models import Attachment, AttachmentState
from tickets.previews import schedule_preview

DEFAULT_BATCH_SIZE = 200
MISSING_FILE_ERROR = "The stored file is missing (never copied to this storage, or deleted)."


@dataclass
class BackfillReport:
    examined: int = 0
    digested: int = 0
    previews_queued: int = 0
    missing: int = 0
    # Where the next batch starts: resume with `after_pk` set to it.
    last_pk: int = 0

    def add(self, batch: "BackfillReport") -> None:
        self.examined += batch.examined
        self.digested += batch.digested
        self.previews_queued += batch.previews_queued
        self.missing += batch.missing
        self.last_pk = batch.last_pk


def _lacks_digest() -> Q:
    return Q(sha256="") | Q(content_type="") | Q(size__isnull=True)


def list_attachments_to_backfill() -> QuerySet[Attachment]:
    """Stored files without their digest (sha256, sniffed type, size), or an image or PDF
    without its thumbnail."""
    return (
        Attachment.objects.filter(state=AttachmentState.STORED)
        .exclude(storage_key="")
        .filter(_lacks_digest() | Q(content_type__in=PREVIEWABLE_TYPES, preview_key=""))
    )


def _needs_digest(row: Attachment) -> bool:
    return not (row.sha256 and row.content_type and row.size is not None)


def _known_digests(keys: set[str]) -> dict[tuple[str, str], Digest]:
    """Digests already recorded on another row of the same bytes (a forward and its source)."""
    rows = (
        Attachment.objects.filter(storage_key__in=keys, state=AttachmentState.STORED)
        .exclude(_lacks_digest())
        .values_list("storage_key", "declared_type", "sha256", "size", "content_type")
    )
    return {(key, declared): Digest(sha, size, kind) for key, declared, sha, size, kind in rows}


def _read_digests(rows: list[Attachment]) -> dict[tuple[str, str], Digest | None]:
    """Each stored file read once (a forwarded file shares its bytes with its source); None
    when the bytes are gone. Any other storage error stops the batch, which then runs again."""
    lacking = [row for row in rows if _needs_digest(row)]
    digests: dict[tuple[str, str], Digest | None] = dict(
        _known_digests({row.storage_key for row in lacking})
    )
    for row in lacking:
        key = (row.storage_key, row.declared_type)
        if key in digests:
            continue
        try:
            digests[key] = digest_stored_file(
                storage_key=row.storage_key, declared_type=row.declared_type
            )
        except FileNotFoundError:
            digests[key] = None
    return digests


def backfill_attachment_batch(
    *, after_pk: int = 0, batch_size: int = DEFAULT_BATCH_SIZE
) -> BackfillReport:
    """Up to `batch_size` files with a primary key above `after_pk`."""
    rows = list(list_attachments_to_backfill().filter(pk__gt=after_pk).order_by("pk")[:batch_size])
    report = BackfillReport(examined=len(rows), last_pk=rows[-1].pk if rows else after_pk)
    digests = _read_digests(rows)
    with transaction.atomic():
        for row in rows:
            # Still the stored file that was read: an erasure or a retry since then wins.
            unchanged = Attachment.objects.filter(
                pk=row.pk, state=AttachmentState.STORED, storage_key=row.storage_key
            )
            if _needs_digest(row):
                digest = digests[(row.storage_key, row.declared_type)]
                if digest is None:
                    report.missing += unchanged.update(
                        state=AttachmentState.FAILED, error=MISSING_FILE_ERROR
                    )
                    continue
                if not unchanged.update(
                    sha256=digest.sha256, content_type=digest.content_type, size=digest.size
                ):
                    continue
                row.sha256, row.content_type, row.size = (
                    digest.sha256,
                    digest.content_type,
                    digest.size,
                )
                report.digested += 1
            if row.content_type in PREVIEWABLE_TYPES and not row.preview_key:
                schedule_preview(row)
                report.previews_queued += 1
    return report


def backfill_attachments(
    *,
    after_pk: int = 0,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[BackfillReport], None] | None = None,
) -> BackfillReport:
    """Every batch in turn (the management command); `on_batch` hears of each one."""
    total = BackfillReport(last_pk=after_pk)
    while True:
        batch = backfill_attachment_batch(after_pk=total.last_pk, batch_size=batch_size)
        total.add(batch)
        if on_batch is not None:
            on_batch(batch)
        if batch.examined < batch_size:
            return total
