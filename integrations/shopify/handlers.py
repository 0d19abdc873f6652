"""Process stored Shopify webhooks: refresh the customer's cached Shopify data, sync products."""

import logging
from functools import partial

from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError
from integrations.models import WebhookEvent, WebhookStatus
from integrations.records import RecordError, from_jsonable, to_jsonable
from integrations.selectors import RECENT_ORDERS, ShopifySection, invalidate_customer_context
from integrations.shopify.types import ShopifyCustomer, ShopifyOrder, ShopifyProduct
from tickets.identities import normalize_identity
from tickets.models import Customer, CustomerIdentity, IdentityKind
from tickets.services import link_customer_account

logger = logging.getLogger(__name__)

ORDER_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "orders/paid",
    "orders/cancelled",
)


def handle_event(event: WebhookEvent) -> str:
    topic, payload = event.kind, event.payload
    if topic in ("customers/create", "customers/update"):
        return _customer_changed(ShopifyCustomer.from_rest(payload))
    if topic in ORDER_TOPICS:
        return _order_changed(ShopifyOrder.from_rest(payload), payload.get("customer") or {})
    if topic in ("products/create", "products/update"):
        from knowledge.services import upsert_product

        upsert_product(product=ShopifyProduct.from_rest(payload))
        return WebhookStatus.PROCESSED
    if topic == "products/delete":
        from knowledge.services import remove_product

        remove_product(shopify_id=int(payload["id"]))
        return WebhookStatus.PROCESSED
    logger.info("shopify.webhook.ignored topic=%s", topic)
    return WebhookStatus.IGNORED


def find_customer_for_shopify(
    *, shopify_id: int, email: str = "", phone: str = ""
) -> Customer | None:
    """The helpdesk customer linked to `shopify_id`, else the one owning that email/phone."""
    customer = Customer.objects.filter(shopify_customer_id=str(shopify_id)).first()
    if customer is not None:
        return customer
    for kind, value in ((IdentityKind.EMAIL, email), (IdentityKind.PHONE, phone)):
        if not value:
            continue
        try:
            value = normalize_identity(kind=kind, value=value)
        except ApplicationError:
            continue
        identity = (
            CustomerIdentity.objects.select_related("customer")
            .filter(kind=kind, value=value)
            .first()
        )
        if identity is not None and not identity.customer.shopify_customer_id:
            links = (identity.customer.external_data or {}).get("links", {})
            return None if links.get("shopify") == "unlinked" else identity.customer
    return None


def _section(customer: Customer) -> ShopifySection | None:
    data = ((customer.external_data or {}).get("shopify") or {}).get("data")
    try:
        return from_jsonable(ShopifySection, data) if data else None
    except RecordError:
        return None


def _save(customer: Customer, section: ShopifySection) -> None:
    snapshot = {"fetched_at": timezone.now().isoformat(), "data": to_jsonable(section)}
    link_customer_account(
        customer=customer,
        provider="shopify",
        external_id=str(section.customer.id),
        snapshot=snapshot,
    )
    transaction.on_commit(partial(invalidate_customer_context, customer_id=customer.pk))


def _customer_changed(shopify_customer: ShopifyCustomer) -> str:
    customer = find_customer_for_shopify(
        shopify_id=shopify_customer.id, email=shopify_customer.email, phone=shopify_customer.phone
    )
    if customer is None:
        return WebhookStatus.IGNORED
    current = _section(customer)
    _save(
        customer,
        ShopifySection(customer=shopify_customer, orders=current.orders if current else []),
    )
    return WebhookStatus.PROCESSED


def _order_changed(order: ShopifyOrder, customer_payload: dict) -> str:
    if order.customer_id is None:
        return WebhookStatus.IGNORED
    customer = find_customer_for_shopify(
        shopify_id=order.customer_id,
        email=customer_payload.get("email") or "",
        phone=customer_payload.get("phone") or "",
    )
    if customer is None:
        return WebhookStatus.IGNORED
    current = _section(customer)
    if current is not None:
        shopify_customer = current.customer
    elif customer_payload.get("id"):
        shopify_customer = ShopifyCustomer.from_rest(customer_payload)
    else:
        return WebhookStatus.IGNORED
    orders = [o for o in (current.orders if current else []) if o.id != order.id] + [order]
    orders.sort(key=lambda o: (o.created_at is not None, o.created_at), reverse=True)
    _save(customer, ShopifySection(customer=shopify_customer, orders=orders[:RECENT_ORDERS]))
    return WebhookStatus.PROCESSED
