"""Background work for product knowledge: embeddings and the full catalog sync."""

from django_tasks import task

from accounts.models import User
from core import queues
from knowledge import services


@task(queue_name=queues.BULK)
def embed_products_task(*, product_ids: list[int] | None = None) -> int:
    return services.embed_products(product_ids=product_ids)


@task(queue_name=queues.BULK)
def sync_catalog_task(*, triggered_by_id: int | None = None) -> int:
    user = User.objects.filter(pk=triggered_by_id).first() if triggered_by_id else None
    return services.sync_catalog(triggered_by=user).pk
