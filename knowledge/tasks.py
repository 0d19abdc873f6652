"""Background work for product knowledge: embeddings (bulk queue) and the full catalog sync."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from accounts.models import User
from core import queues
from knowledge import catalog_sync, services


@task(queue_name=queues.BULK)
def embed_products_task(*, product_ids: list[int] | None = None) -> int:
    return services.embed_products(product_ids=product_ids)


@task(queue_name=queues.BULK)
def embed_suggestion_uses_task() -> int:
    return services.embed_suggestion_uses()


@task(queue_name=queues.BULK)
def sync_catalog_task(*, triggered_by_id: int | None = None, mode: str = "auto") -> int:
    """Start (or resume) the catalog sync; a running bulk operation is followed up later."""
    user = User.objects.filter(pk=triggered_by_id).first() if triggered_by_id else None
    log = catalog_sync.open_catalog_sync(mode=mode, triggered_by=user)
    _advance(log.pk)
    return log.pk


@task(queue_name=queues.BULK)
def advance_catalog_sync_task(*, log_id: int) -> str:
    """Poll the bulk operation / import its result; enqueued by itself while Shopify is still
    exporting, and at once by the `bulk_operations/finish` webhook."""
    return _advance(log_id)


def _advance(log_id: int) -> str:
    outcome = catalog_sync.advance_catalog_sync(log_id=log_id)
    backend = advance_catalog_sync_task.get_backend()
    # Without deferred tasks (the immediate backend) the finish webhook or the next run goes on.
    if outcome == catalog_sync.Outcome.WAITING and backend.supports_defer:
        later = timezone.now() + timedelta(seconds=catalog_sync.POLL_SECONDS)
        advance_catalog_sync_task.using(run_after=later).enqueue(log_id=log_id)
    return outcome


def on_bulk_operation_finished(event) -> None:
    """`ShopifyBulkOperationFinished` subscriber: continue the sync waiting for that operation."""
    log = catalog_sync.find_sync_for_bulk_operation(operation_id=event.operation_id)
    if log is not None:
        advance_catalog_sync_task.enqueue(log_id=log.pk)
