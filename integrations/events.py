"""Domain events the integrations app publishes (core.events); other apps subscribe to them."""

from dataclasses import dataclass


@dataclass(frozen=True)
class ShopifyBulkOperationFinished:
    """Shopify's `bulk_operations/finish` webhook: the operation completed, failed or was
    cancelled; `status` is Shopify's (lower case)."""

    operation_id: str
    status: str
