"""The domain events integrations publishes (core.events): what Shopify told us about the
catalog (knowledge subscribes: product knowledge and search follow the shop)."""

from dataclasses import dataclass

from integrations.shopify.types import ShopifyProduct


@dataclass(frozen=True)
class ShopifyBulkOperationFinished:
    """Shopify's `bulk_operations/finish` webhook: the operation completed, failed or was
    cancelled; `status` is Shopify's (lower case)."""

    operation_id: str
    status: str


@dataclass(frozen=True, kw_only=True)
class ShopifyProductChanged:
    """A product was created or updated in Shopify (from a verified webhook)."""

    product: ShopifyProduct


@dataclass(frozen=True, kw_only=True)
class ShopifyProductDeleted:
    shopify_id: int


@dataclass(frozen=True, kw_only=True)
class CatalogSyncRequested:
    """Staff asked for a full catalog sync from the sync-log admin."""

    triggered_by_id: int | None
