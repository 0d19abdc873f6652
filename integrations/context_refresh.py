"""Asking Shopify and PERP about a customer: the refresh of the stored customer context, and the
live lookup of one order.

`refresh_customer_context` runs in a task (`integrations.tasks.refresh_customer_context_task`,
bulk queue), in a rule run and in the syncs, never while a page waits. Each provider is asked
independently and outside any transaction; the answer, or the failure next to the last good data,
is stored on the customer through `tickets.services.store_customer_snapshot`. A customer without
a Shopify/PERP id is matched by their email, then phone identities, and the match is linked.
"""

import logging
from dataclasses import dataclass, field

from django.core.cache import cache
from django.utils import timezone

from integrations.clients import ProviderError
from integrations.http_retry import RetryPolicy
from integrations.perp.client import PerpClient, PerpNotFound
from integrations.perp.types import ORDER_NUMBER, Invoice, PerpOrder
from integrations.records import to_jsonable
from integrations.selectors import (
    CustomerContext,
    PerpOrderDetail,
    PerpSection,
    SectionState,
    SectionStatus,
    ShopifySection,
    get_customer_context,
    refresh_requested_key,
)
from integrations.shopify.client import ShopifyClient
from integrations.shopify.types import ShopifyOrder
from tickets.models import Customer, IdentityKind
from tickets.services import EXTERNAL_ID_FIELDS, store_customer_snapshot

logger = logging.getLogger(__name__)

RECENT_ORDERS = 5
RECENT_INVOICES = 10
# Someone is waiting (a rule run, an order looked up from the sidebar): fail fast (one retry,
# short timeouts) and keep the last good data.
INTERACTIVE = {"retry": RetryPolicy(attempts=2, backoff_seconds=0.25), "timeout": (2.0, 5.0)}


def refresh_customer_context(
    *, customer_id: int, is_interactive: bool = False
) -> CustomerContext | None:
    """Ask Shopify and PERP again and store what they say; None when the customer is gone.

    Ends the pending-refresh marker (`integrations.customer_context`) whatever happens, so a
    failed run never leaves pages waiting for it.
    """
    try:
        customer = Customer.objects.prefetch_related("identities").filter(pk=customer_id).first()
        if customer is None:
            return None
        refresh_shopify_section(customer, is_interactive=is_interactive)
        refresh_perp_section(customer, is_interactive=is_interactive)
    finally:
        cache.delete(refresh_requested_key(customer_id))
    return get_customer_context(customer=customer)


def _identities(customer: Customer, *kinds: str) -> list[str]:
    return [i.value for i in customer.identities.all() if i.kind in kinds]


def _can_auto_link(customer: Customer, provider: str) -> bool:
    return (customer.external_data or {}).get("links", {}).get(provider) != "unlinked"


# Shopify ---------------------------------------------------------------------------------------


def refresh_shopify_section(customer: Customer, *, is_interactive: bool = True) -> SectionState:
    if not ShopifyClient.is_configured():
        return SectionState(status=SectionStatus.NOT_CONFIGURED)
    fetched_for = customer.shopify_customer_id
    try:
        client = ShopifyClient.from_settings(**(INTERACTIVE if is_interactive else {}))
        shopify_id = fetched_for
        if not shopify_id and _can_auto_link(customer, "shopify"):
            found = _match(customer, client.find_customer_by_email, client.find_customer_by_phone)
            shopify_id = str(found.id) if found else ""
        if not shopify_id:
            return _store_not_linked(customer, "shopify")
        result = client.get_customer_with_orders(int(shopify_id), first=RECENT_ORDERS)
        if result is None:
            return _store_failure(
                customer, "shopify", "not_found", f"Shopify customer {shopify_id} no longer exists."
            )
        section = ShopifySection(customer=result[0], orders=result[1])
    except (ProviderError, ValueError) as exc:
        return _store_failure(customer, "shopify", _code(exc), str(exc))
    return _store_section(customer, "shopify", fetched_for, shopify_id, section)


# PERP ------------------------------------------------------------------------------------------


def refresh_perp_section(customer: Customer, *, is_interactive: bool = True) -> SectionState:
    if not PerpClient.is_configured():
        return SectionState(status=SectionStatus.NOT_CONFIGURED)
    fetched_for = customer.perp_customer_id
    try:
        client = PerpClient.from_settings(**(INTERACTIVE if is_interactive else {}))
        perp_id = fetched_for
        if not perp_id and _can_auto_link(customer, "perp"):
            found = _match(
                customer, client.search_customer_by_email, client.search_customer_by_phone
            )
            perp_id = found.id if found else ""
        if not perp_id:
            return _store_not_linked(customer, "perp")
        section = fetch_perp_section(client, perp_id)
    except ProviderError as exc:
        return _store_failure(customer, "perp", _code(exc), str(exc))
    return _store_section(customer, "perp", fetched_for, perp_id, section)


def fetch_perp_section(client: PerpClient, perp_id: str) -> PerpSection:
    perp_customer = client.get_customer(perp_id)
    try:
        wallet = client.get_vip_wallet(perp_id)
    except PerpNotFound:
        wallet = None  # not every customer is in the VIP programme
    page = client.get_customer_orders(perp_id, limit=RECENT_ORDERS)
    orders = [fetch_perp_order_detail(client, order) for order in page.results]
    invoices = client.get_customer_invoices(perp_id, limit=RECENT_INVOICES).results
    return PerpSection(
        customer=perp_customer,
        wallet=wallet,
        orders=orders,
        order_count=page.count,
        invoices=invoices,
    )


def fetch_perp_order_detail(client: PerpClient, order: PerpOrder) -> PerpOrderDetail:
    try:
        production = client.get_production_status(order.id)
    except PerpNotFound:
        production = None  # not scheduled yet
    return PerpOrderDetail(
        order=order, production=production, artwork=client.get_order_artwork(order.id)
    )


# Storing what a provider said ------------------------------------------------------------------


def _match(customer: Customer, by_email, by_phone):
    """The provider record for the customer's first matching email, then phone identity."""
    for email in _identities(customer, IdentityKind.EMAIL):
        found = by_email(email)
        if found is not None:
            return found
    for phone in dict.fromkeys(_identities(customer, IdentityKind.PHONE, IdentityKind.WHATSAPP)):
        found = by_phone(phone)
        if found is not None:
            return found
    return None


def _code(exc: Exception) -> str:
    return getattr(exc, "code", "bad_response")


def _store_section(
    customer: Customer, provider: str, fetched_for: str, external_id: str, section
) -> SectionState:
    now = timezone.now()
    entry = {"fetched_at": now.isoformat(), "checked_at": now.isoformat()}
    _store(customer, provider, fetched_for, external_id, {**entry, "data": to_jsonable(section)})
    return SectionState(status=SectionStatus.OK, fetched_at=now, checked_at=now)


def _store_not_linked(customer: Customer, provider: str) -> SectionState:
    _store(customer, provider, "", "", {"checked_at": timezone.now().isoformat()})
    return SectionState(status=SectionStatus.NOT_LINKED)


def _store_failure(customer: Customer, provider: str, code: str, message: str) -> SectionState:
    """Keep the last good data next to the error, so the sidebar still shows it, with its age."""
    logger.warning("%s.context.failed customer=%s code=%s", provider, customer.pk, code)
    previous = (customer.external_data or {}).get(provider) or {}
    entry = {
        **{key: previous[key] for key in ("data", "fetched_at") if key in previous},
        "checked_at": timezone.now().isoformat(),
        "error": message,
        "error_code": code,
    }
    external_id = getattr(customer, EXTERNAL_ID_FIELDS[provider])
    _store(customer, provider, external_id, external_id, entry)
    return SectionState(
        status=SectionStatus.ERROR, error=message, error_code=code, is_fallback="data" in entry
    )


def _store(customer: Customer, provider: str, fetched_for: str, external_id: str, entry: dict):
    stored = store_customer_snapshot(
        customer_id=customer.pk,
        provider=provider,
        fetched_for=fetched_for,
        external_id=external_id,
        snapshot=entry,
    )
    if stored is not None:
        customer.external_data = stored.external_data
        setattr(customer, EXTERNAL_ID_FIELDS[provider], external_id)


# One order, live -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderDetail:
    number: str
    shopify: ShopifyOrder | None = None
    perp: PerpOrderDetail | None = None
    invoices: list[Invoice] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def fetch_order_detail(*, customer: Customer, number: str) -> OrderDetail:
    """One order by its Shopify name or PERP number, with whatever the other side knows: asked
    live (the agent opened it), joined with the stored context's PERP orders and invoices."""
    number = number.strip()
    context = get_customer_context(customer=customer)
    errors: dict[str, str] = {}
    shopify_order, perp_detail = None, None
    is_perp = ORDER_NUMBER.fullmatch(number) is not None
    if is_perp and PerpClient.is_configured():
        try:
            client = PerpClient.from_settings(**INTERACTIVE)
            order = client.search_order_by_number(number)
            perp_detail = fetch_perp_order_detail(client, order) if order else None
        except ProviderError as exc:
            errors["perp"] = str(exc)
    elif not is_perp:
        known = context.perp.orders if context.perp else []
        perp_detail = next((d for d in known if d.order.shopify_order_name == number), None)
    shopify_name = (
        number if not is_perp else (perp_detail.order.shopify_order_name if perp_detail else "")
    )
    if shopify_name and ShopifyClient.is_configured():
        try:
            shopify_order = ShopifyClient.from_settings(**INTERACTIVE).get_order_by_name(
                shopify_name
            )
        except ProviderError as exc:
            errors["shopify"] = str(exc)
    invoices = context.invoices_for(perp_detail.order.id) if perp_detail else []
    return OrderDetail(
        number=number, shopify=shopify_order, perp=perp_detail, invoices=invoices, errors=errors
    )
