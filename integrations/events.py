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


@dataclass(frozen=True, kw_only=True)
class ShopifyCustomerDataRequested:
    """`customers/data_request`: the shop's customer asked for the data we hold about them."""

    webhook_event_id: int
    customer_id: int | None
    shopify_request_id: str


@dataclass(frozen=True, kw_only=True)
class ShopifyCustomerRedactRequested:
    """`customers/redact`: erase the customer. The stored webhook carries the addresses even
    when no helpdesk customer matches, so copies elsewhere can still be found."""

    webhook_event_id: int
    customer_id: int | None


@dataclass(frozen=True, kw_only=True)
class ShopifyShopRedactRequested:
    """`shop/redact`, 48 hours after the shop uninstalled the app."""

    webhook_event_id: int
    shop_domain: str


@dataclass(frozen=True, kw_only=True)
class ShopifyOrderActionCompleted:
    """An order action from a ticket went through (docs/orders.md); a reprint names the new
    order, which the print-shop app links to the ticket."""

    action_id: int
    ticket_id: int
    actor_id: int
    kind: str
    order_name: str
    new_order_name: str
