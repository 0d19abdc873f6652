"""Reactions to the integrations app's Shopify compliance events (core/events.py)."""

from integrations.events import (
    ShopifyCustomerDataRequested,
    ShopifyCustomerRedactRequested,
    ShopifyShopRedactRequested,
)
from privacy.tasks import answer_compliance_webhook


def on_data_request(event: ShopifyCustomerDataRequested) -> None:
    answer_compliance_webhook.enqueue(
        topic="customers/data_request",
        webhook_event_id=event.webhook_event_id,
        customer_id=event.customer_id,
        shopify_request_id=event.shopify_request_id,
    )


def on_customer_redact(event: ShopifyCustomerRedactRequested) -> None:
    answer_compliance_webhook.enqueue(
        topic="customers/redact",
        webhook_event_id=event.webhook_event_id,
        customer_id=event.customer_id,
    )


def on_shop_redact(event: ShopifyShopRedactRequested) -> None:
    answer_compliance_webhook.enqueue(
        topic="shop/redact", webhook_event_id=event.webhook_event_id, shop_domain=event.shop_domain
    )
