"""How product knowledge follows the shop: Shopify product webhooks (announced by integrations)
upsert or remove the product inside the webhook's processing, so a failure marks that webhook
failed for a retry; a catalog sync asked for in the admin runs as a bulk task after commit, and
a finished Shopify bulk operation advances the running catalog sync.
Registered in `KnowledgeConfig.ready()`."""

from core import events as bus
from integrations.events import (
    CatalogSyncRequested,
    ShopifyBulkOperationFinished,
    ShopifyProductChanged,
    ShopifyProductDeleted,
)
from knowledge.services import remove_product, upsert_product
from knowledge.tasks import on_bulk_operation_finished, sync_catalog_task


def on_product_changed(event: ShopifyProductChanged) -> None:
    upsert_product(product=event.product)


def on_product_deleted(event: ShopifyProductDeleted) -> None:
    remove_product(shopify_id=event.shopify_id)


def on_catalog_sync_requested(event: CatalogSyncRequested) -> None:
    sync_catalog_task.enqueue(triggered_by_id=event.triggered_by_id)


def register() -> None:
    bus.subscribe(ShopifyProductChanged, on_product_changed, in_transaction=True)
    bus.subscribe(ShopifyProductDeleted, on_product_deleted, in_transaction=True)
    bus.subscribe(CatalogSyncRequested, on_catalog_sync_requested)
    bus.subscribe(ShopifyBulkOperationFinished, on_bulk_operation_finished)
