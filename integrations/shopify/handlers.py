"""Process stored Shopify webhooks: refresh the customer's cached Shopify data; announce product
changes and finished bulk operations (product knowledge subscribes).

Deliveries can arrive late and out of order: an order or customer payload is applied only when
its `updated_at` (else the delivery's X-Shopify-Triggered-At) is newer than the copy we hold.
"""

import logging
from dataclasses import replace
from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.errors import ApplicationError
from core.events import publish_on_commit
from integrations.context_refresh import RECENT_ORDERS
from integrations.events import (
    ShopifyBulkOperationFinished,
    ShopifyCustomerDataRequested,
    ShopifyCustomerRedactRequested,
    ShopifyProductChanged,
    ShopifyProductDeleted,
    ShopifyShopRedactRequested,
)
from integrations.models import WebhookEvent, WebhookStatus
from integrations.records import RecordError, from_jsonable, to_jsonable
from integrations.selectors import ShopifySection
from integrations.shopify.types import ShopifyCustomer, ShopifyOrder, ShopifyProduct
from tickets.identities import normalize_identity
from tickets.models import Customer, CustomerIdentity, IdentityKind
from tickets.services import link_customer_account

logger = logging.getLogger(__name__)

COMPLIANCE_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")
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
        customer = ShopifyCustomer.from_rest(payload)
        return _customer_changed(replace(customer, updated_at=_changed_at(event, customer)))
    if topic in ORDER_TOPICS:
        order = ShopifyOrder.from_rest(payload)
        order = replace(order, updated_at=_changed_at(event, order))
        return _order_changed(order, payload.get("customer") or {})
    if topic == "bulk_operations/finish":
        publish_on_commit(
            ShopifyBulkOperationFinished(
                operation_id=str(payload.get("admin_graphql_api_id") or ""),
                status=str(payload.get("status") or ""),
            )
        )
        return WebhookStatus.PROCESSED
    if topic in ("products/create", "products/update"):
        publish_on_commit(ShopifyProductChanged(product=ShopifyProduct.from_rest(payload)))
        return WebhookStatus.PROCESSED
    if topic == "products/delete":
        publish_on_commit(ShopifyProductDeleted(shopify_id=int(payload["id"])))
        return WebhookStatus.PROCESSED
    if topic in COMPLIANCE_TOPICS:
        return _compliance_request(event)
    logger.info("shopify.webhook.ignored topic=%s", topic)
    return WebhookStatus.IGNORED


def _changed_at(event: WebhookEvent, record: ShopifyOrder | ShopifyCustomer) -> datetime | None:
    if record.updated_at is not None:
        return record.updated_at
    triggered = (event.headers or {}).get("X-Shopify-Triggered-At") or ""
    return parse_datetime(triggered) if triggered else None


def _is_stale(incoming: datetime | None, held: datetime | None) -> bool:
    """Only a payload provably not newer than ours is stale; without dates we apply it."""
    return incoming is not None and held is not None and incoming <= held


def _compliance_request(event: WebhookEvent) -> str:
    """Privacy requests are answered by the privacy app (docs/privacy.md) after this commits."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    if event.kind == "shop/redact":
        publish_on_commit(
            ShopifyShopRedactRequested(
                webhook_event_id=event.pk, shop_domain=str(payload.get("shop_domain") or "")
            )
        )
        return WebhookStatus.PROCESSED
    person = payload.get("customer")
    person = person if isinstance(person, dict) else {}
    try:
        shopify_id = int(person.get("id") or 0)
    except (TypeError, ValueError):
        shopify_id = 0
    customer = find_customer_for_shopify(
        shopify_id=shopify_id,
        email=str(person.get("email") or ""),
        phone=str(person.get("phone") or ""),
    )
    customer_id = customer.pk if customer is not None else None
    if event.kind == "customers/data_request":
        request = payload.get("data_request")
        request_id = str(request.get("id") or "") if isinstance(request, dict) else ""
        publish_on_commit(
            ShopifyCustomerDataRequested(
                webhook_event_id=event.pk, customer_id=customer_id, shopify_request_id=request_id
            )
        )
    else:
        publish_on_commit(
            ShopifyCustomerRedactRequested(webhook_event_id=event.pk, customer_id=customer_id)
        )
    return WebhookStatus.PROCESSED


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


def _customer_changed(shopify_customer: ShopifyCustomer) -> str:
    customer = find_customer_for_shopify(
        shopify_id=shopify_customer.id, email=shopify_customer.email, phone=shopify_customer.phone
    )
    if customer is None:
        return WebhookStatus.IGNORED
    # FOR UPDATE: two deliveries for one customer must compare and write one after the other.
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    current = _section(customer)
    if current is not None and _is_stale(shopify_customer.updated_at, current.customer.updated_at):
        logger.info("shopify.webhook.stale customer=%s", shopify_customer.id)
        return WebhookStatus.IGNORED
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
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    current = _section(customer)
    held = next((o for o in (current.orders if current else []) if o.id == order.id), None)
    if held is not None and _is_stale(order.updated_at, held.updated_at):
        logger.info("shopify.webhook.stale order=%s", order.id)
        return WebhookStatus.IGNORED
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
