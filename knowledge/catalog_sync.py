"""Full catalog sync from Shopify into product knowledge, sized to Shopify's query cost.

Two ways through the catalog (docs/shopify.md):
- **bulk** (more than BULK_THRESHOLD products): `bulkOperationRunQuery`, then poll it (or the
  `bulk_operations/finish` webhook advances the sync), then stream the JSONL result and
  reassemble each product with its variants and images.
- **paged**: cost-sized `products` pages (the client's PRODUCT_PAGE_SIZE).

The ShopifySyncLog row is the progress report and the checkpoint: products seen/total, the paged
cursor and ids seen, or the bulk operation id. Each batch of upserts commits together with the
checkpoint, so a crash loses at most one batch of work and a re-run resumes the unfinished log.
A worker holds a lease on the log while it works; a crashed worker's lease runs out (LEASE) and
the next run takes over. Products Shopify no longer has are deleted only after a complete pass.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from analytics.services import record_event
from core.errors import ApplicationError
from integrations.clients import ProviderError
from integrations.models import ShopifySyncLog, SyncMode, SyncStatus
from integrations.shopify.bulk import BulkProductReader
from integrations.shopify.client import BULK_PRODUCTS_QUERY, ShopifyClient, ShopifyUserError
from integrations.shopify.types import BulkOperation, ProductPage, ShopifyProduct
from knowledge import services

logger = logging.getLogger(__name__)

BULK_THRESHOLD = 250
BATCH_SIZE = 100
LEASE = timedelta(minutes=5)
# A bulk result URL expires seven days after the operation; an older unfinished sync starts over.
RESUMABLE_FOR = timedelta(days=7)
POLL_SECONDS = 5.0
MODES = ("auto", SyncMode.BULK, SyncMode.PAGED)


class CatalogSource(Protocol):
    """What the sync needs from Shopify (the client; tests may pass a stand-in for paged mode)."""

    def count_products(self) -> int: ...

    def list_products(self, *, after: str | None = None) -> ProductPage: ...


@dataclass(frozen=True)
class SyncProgress:
    phase: str  # "exporting" (Shopify runs the bulk operation) or "importing"
    done: int
    total: int | None


Progress = Callable[[SyncProgress], None]


class Outcome:
    FINISHED = "finished"
    WAITING = "waiting"  # the bulk operation is still running
    BUSY = "busy"  # another worker holds the lease


class CatalogSyncFailed(ApplicationError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="catalog_sync_failed", status=502)


def open_catalog_sync(
    *, mode: str = "auto", triggered_by: User | None = None, restart: bool = False
) -> ShopifySyncLog:
    """The unfinished products sync to resume (running or failed, with its checkpoint), else a
    new one. `restart` abandons an unfinished one instead."""
    if mode not in MODES:
        raise ApplicationError(f"Unknown catalog sync mode {mode!r}.", code="invalid_sync")
    with transaction.atomic():
        latest = (
            ShopifySyncLog.objects.select_for_update()
            .filter(resource="products")
            .order_by("-started_at", "-pk")
            .first()
        )
        if latest is not None and latest.status != SyncStatus.SUCCEEDED:
            is_fresh = latest.started_at > timezone.now() - RESUMABLE_FOR
            if is_fresh and not restart:
                logger.info("knowledge.sync.resume sync_log=%s", latest.pk)
                return latest
            latest.status = SyncStatus.FAILED
            latest.error = (latest.error + "\nAbandoned: a new sync started over.").strip()
            latest.finished_at = latest.finished_at or timezone.now()
            latest.lease_until = None
            latest.save(update_fields=["status", "error", "finished_at", "lease_until"])
        return ShopifySyncLog.objects.create(
            resource="products",
            triggered_by=triggered_by,
            mode="" if mode == "auto" else mode,
        )


def sync_catalog(
    *,
    mode: str = "auto",
    triggered_by: User | None = None,
    source: CatalogSource | None = None,
    progress: Progress | None = None,
    restart: bool = False,
    poll_seconds: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> ShopifySyncLog:
    """Run (or resume) the catalog sync to the end, polling a bulk operation until it is done."""
    log = open_catalog_sync(mode=mode, triggered_by=triggered_by, restart=restart)
    while True:
        outcome = advance_catalog_sync(log_id=log.pk, source=source, progress=progress)
        if outcome != Outcome.WAITING:
            break
        sleep(poll_seconds)
    log.refresh_from_db()
    if outcome == Outcome.BUSY:
        raise ApplicationError(
            "Another worker is running this catalog sync.", code="sync_busy", status=409
        )
    return log


def advance_catalog_sync(
    *, log_id: int, source: CatalogSource | None = None, progress: Progress | None = None
) -> str:
    """Take the sync as far as it can go now: to the end, or until the bulk operation is still
    running (WAITING). Provider and data errors fail the log (keeping its checkpoint) and raise."""
    log = _claim(log_id)
    if log is None:
        return Outcome.BUSY
    client = source or ShopifyClient.from_settings()
    report = progress or (lambda update: None)
    try:
        if not log.mode:
            total = client.count_products()
            log.mode = SyncMode.BULK if total > BULK_THRESHOLD else SyncMode.PAGED
            log.items_total = total
            _checkpoint(log, "mode", "items_total")
        if log.mode == SyncMode.BULK:
            seen = _run_bulk(log, client, report)
            if seen is None:
                _release(log)
                return Outcome.WAITING
        else:
            seen = _run_paged(log, client, report)
        _finish(log, seen)
    except (ProviderError, ApplicationError) as exc:
        _fail(log, exc)
        raise
    return Outcome.FINISHED


# Paged --------------------------------------------------------------------------------------


def _run_paged(log: ShopifySyncLog, client: CatalogSource, report: Progress) -> set[int]:
    if log.items_total is None:
        log.items_total = client.count_products()
        _checkpoint(log, "items_total")
    seen = set(log.seen_ids)
    after = log.cursor or None
    while True:
        page = client.list_products(after=after)
        with transaction.atomic():
            _import(log, page.products)
            seen.update(p.id for p in page.products)
            log.cursor = page.end_cursor or ""
            log.seen_ids = sorted(seen)
            _checkpoint(log, "cursor", "seen_ids")
        report(SyncProgress("importing", log.items_seen, log.items_total))
        if not page.has_next_page or not page.end_cursor:
            return seen
        after = page.end_cursor


# Bulk ---------------------------------------------------------------------------------------


def _run_bulk(log: ShopifySyncLog, client: ShopifyClient, report: Progress) -> set[int] | None:
    """Import the bulk result; None while Shopify is still running the operation."""
    if not log.bulk_operation_id:
        log.bulk_operation_id = _start_bulk(client).id
        _checkpoint(log, "bulk_operation_id")
    operation = client.get_bulk_operation(log.bulk_operation_id)
    if operation is None or operation.status in ("FAILED", "CANCELED", "EXPIRED"):
        what = operation.error_code or operation.status if operation else "it is gone"
        log.bulk_operation_id = ""  # a re-run starts a new operation
        _checkpoint(log, "bulk_operation_id")
        raise CatalogSyncFailed(f"Shopify's bulk operation did not complete ({what}).")
    if not operation.is_finished:
        report(SyncProgress("exporting", operation.object_count, None))
        return None
    log.items_total = operation.root_object_count
    _checkpoint(log, "items_total")
    return _import_bulk_result(log, client, operation, report)


def _start_bulk(client: ShopifyClient) -> BulkOperation:
    try:
        return client.start_bulk_query(BULK_PRODUCTS_QUERY)
    except ShopifyUserError as exc:
        # One bulk query per app and shop: adopt ours if a crash lost its id, else give up.
        current = client.current_bulk_operation()
        if current is not None and not current[0].is_finished:
            operation, query = current
            if query.split() == BULK_PRODUCTS_QUERY.split():
                return operation
        raise CatalogSyncFailed(f"Shopify refused the bulk query: {exc}") from exc


def _import_bulk_result(
    log: ShopifySyncLog, client: ShopifyClient, operation: BulkOperation, report: Progress
) -> set[int]:
    # On resume, the products a previous run already imported are read but not upserted again.
    already = log.items_seen
    seen: set[int] = set()
    reader = BulkProductReader(client.stream_bulk_result(operation.url) if operation.url else [])
    batch: list[ShopifyProduct] = []
    for product in reader:
        seen.add(product.id)
        if len(seen) <= already:
            continue
        batch.append(product)
        if len(batch) == BATCH_SIZE:
            _import_batch(log, batch, report)
            batch = []
    if batch:
        _import_batch(log, batch, report)
    if reader.late_lines:
        log.error = f"{reader.late_lines} variant/image lines came after another product: skipped."
        _checkpoint(log, "error")
    return seen


def _import_batch(log: ShopifySyncLog, batch: list[ShopifyProduct], report: Progress) -> None:
    with transaction.atomic():
        _import(log, batch)
        _checkpoint(log)
    report(SyncProgress("importing", log.items_seen, log.items_total))


# Shared -------------------------------------------------------------------------------------


def _import(log: ShopifySyncLog, products: list[ShopifyProduct]) -> None:
    outcome = services.upsert_products(products=products)
    log.items_seen += len(products)
    log.items_created += outcome.created
    log.items_updated += outcome.updated


def _claim(log_id: int) -> ShopifySyncLog | None:
    with transaction.atomic():
        log = ShopifySyncLog.objects.select_for_update().get(pk=log_id)
        now = timezone.now()
        if log.status == SyncStatus.SUCCEEDED or (log.lease_until and log.lease_until > now):
            return None
        log.status = SyncStatus.RUNNING
        log.finished_at = None
        log.lease_until = now + LEASE
        log.save(update_fields=["status", "finished_at", "lease_until"])
        return log


def _checkpoint(log: ShopifySyncLog, *fields: str) -> None:
    """Save progress and renew the lease (inside the batch's transaction when there is one)."""
    log.lease_until = timezone.now() + LEASE
    log.save(
        update_fields=[
            "items_seen",
            "items_created",
            "items_updated",
            "lease_until",
            *fields,
        ]
    )


def _release(log: ShopifySyncLog) -> None:
    log.lease_until = None
    log.save(update_fields=["lease_until"])


@transaction.atomic
def _finish(log: ShopifySyncLog, seen: set[int]) -> None:
    deleted = services.remove_products_except(shopify_ids=seen)
    log.status = SyncStatus.SUCCEEDED
    log.finished_at = timezone.now()
    log.lease_until = None
    log.cursor = ""
    log.seen_ids = []
    log.save()
    record_event(
        name="knowledge.catalog_synced",
        actor=log.triggered_by,
        subject=log,
        properties={
            "mode": log.mode,
            "seen": log.items_seen,
            "created": log.items_created,
            "updated": log.items_updated,
            "deleted": deleted,
        },
    )
    logger.info("knowledge.sync.finished sync_log=%s deleted=%s", log.pk, deleted)


def _fail(log: ShopifySyncLog, exc: Exception) -> None:
    log.status = SyncStatus.FAILED
    log.error = (f"{type(exc).__name__}: {exc}\n" + log.error).strip()[:5000]
    log.finished_at = timezone.now()
    log.lease_until = None
    log.save(update_fields=["status", "error", "finished_at", "lease_until"])
    logger.warning("knowledge.sync.failed sync_log=%s error=%s", log.pk, exc)


def find_sync_for_bulk_operation(*, operation_id: str) -> ShopifySyncLog | None:
    return (
        ShopifySyncLog.objects.filter(resource="products", bulk_operation_id=operation_id)
        .exclude(status=SyncStatus.SUCCEEDED)
        .first()
    )
