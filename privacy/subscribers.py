"""Reactions to the integrations app's Shopify compliance events (core/events.py).
Registered in `PrivacyConfig.ready()`."""

from core import events as bus
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


def register() -> None:
    bus.subscribe(ShopifyCustomerDataRequested, on_data_request)
    bus.subscribe(ShopifyCustomerRedactRequested, on_customer_redact)
    bus.subscribe(ShopifyShopRedactRequested, on_shop_redact)
