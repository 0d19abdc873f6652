"""Customer 360: what Shopify and PERP know about a helpdesk customer.

`get_customer_context` is what the sidebar, the JSON API and reply drafts read. Each provider is
fetched independently: one failing shows its error next to the last good data we have (the
short-TTL cache, else the snapshot stored on the customer), never a 500. A customer without a
Shopify/PERP id is matched by their email, then phone identities, and the match is stored.
"""

import logging
import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.errors import NotFound
from integrations.clients import ProviderError
from integrations.http_retry import RetryPolicy
from integrations.models import WebhookEvent
from integrations.perp.client import PerpClient, PerpNotFound
from integrations.perp.types import (
    ORDER_NUMBER,
    Artwork,
    Invoice,
    PerpCustomer,
    PerpOrder,
    ProductionStatus,
    VipWallet,
)
from integrations.records import RecordError, from_jsonable, to_jsonable
from integrations.shopify.client import ShopifyClient
from integrations.shopify.types import ShopifyCustomer, ShopifyOrder
from tickets.models import Customer, IdentityKind, Ticket
from tickets.services import link_customer_account

logger = logging.getLogger(__name__)

CONTEXT_TTL_SECONDS = 120
# A context with a provider error is kept only briefly, so recovery shows up soon.
DEGRADED_TTL_SECONDS = 15
RECENT_ORDERS = 5
# The sidebar is interactive: fail fast (one retry, short timeouts) and show the cached data.
INTERACTIVE = {"retry": RetryPolicy(attempts=2, backoff_seconds=0.25), "timeout": (2.0, 5.0)}
RECENT_INVOICES = 10
SHOPIFY_ORDER_NUMBER = re.compile(r"(?<![&\w])#\d{4,}\b")


class SectionStatus:
    OK = "ok"
    NOT_CONFIGURED = "not_configured"
    NOT_LINKED = "not_linked"
    ERROR = "error"


@dataclass(frozen=True)
class SectionState:
    status: str
    error: str = ""
    error_code: str = ""
    fetched_at: datetime | None = None
    is_stale: bool = False


@dataclass(frozen=True)
class ShopifySection:
    customer: ShopifyCustomer
    orders: list[ShopifyOrder] = field(default_factory=list)


@dataclass(frozen=True)
class PerpOrderDetail:
    order: PerpOrder
    production: ProductionStatus | None = None
    artwork: list[Artwork] = field(default_factory=list)


@dataclass(frozen=True)
class PerpSection:
    customer: PerpCustomer
    wallet: VipWallet | None = None
    orders: list[PerpOrderDetail] = field(default_factory=list)
    order_count: int = 0
    invoices: list[Invoice] = field(default_factory=list)


@dataclass(frozen=True)
class CustomerContext:
    customer_id: int
    shopify_state: SectionState
    perp_state: SectionState
    generated_at: datetime
    shopify: ShopifySection | None = None
    perp: PerpSection | None = None
    is_cached: bool = False

    @property
    def errors(self) -> dict[str, str]:
        states = {"shopify": self.shopify_state, "perp": self.perp_state}
        return {p: s.error for p, s in states.items() if s.status == SectionStatus.ERROR}

    def invoices_for(self, order_id: str) -> list[Invoice]:
        return [i for i in (self.perp.invoices if self.perp else []) if i.order_id == order_id]


def _cache_key(customer_id: int) -> str:
    return f"integrations:customer-context:v1:{customer_id}"


def get_customer_context(*, customer: Customer, refresh: bool = False) -> CustomerContext:
    """Shopify and PERP data for `customer`, cached per customer for a short TTL."""
    key = _cache_key(customer.pk)
    if not refresh:
        cached = cache.get(key)
        if cached is not None:
            try:
                return replace(from_jsonable(CustomerContext, cached), is_cached=True)
            except RecordError:
                logger.warning("integrations.context.bad_cache customer=%s", customer.pk)
    shopify, shopify_state = refresh_shopify_section(customer)
    perp, perp_state = refresh_perp_section(customer)
    context = CustomerContext(
        customer_id=customer.pk,
        shopify=shopify,
        perp=perp,
        shopify_state=shopify_state,
        perp_state=perp_state,
        generated_at=timezone.now(),
    )
    ttl = DEGRADED_TTL_SECONDS if context.errors else CONTEXT_TTL_SECONDS
    cache.set(key, to_jsonable(context), ttl)
    return context


def invalidate_customer_context(*, customer_id: int) -> None:
    cache.delete(_cache_key(customer_id))


# Shopify ---------------------------------------------------------------------------------------


def _identities(customer: Customer, *kinds: str) -> list[str]:
    return [i.value for i in customer.identities.all() if i.kind in kinds]


def _can_auto_link(customer: Customer, provider: str) -> bool:
    return (customer.external_data or {}).get("links", {}).get(provider) != "unlinked"


def refresh_shopify_section(
    customer: Customer, *, is_interactive: bool = True
) -> tuple[ShopifySection | None, SectionState]:
    if not ShopifyClient.is_configured():
        return None, SectionState(status=SectionStatus.NOT_CONFIGURED)
    try:
        client = ShopifyClient.from_settings(**(INTERACTIVE if is_interactive else {}))
        shopify_id = customer.shopify_customer_id
        if not shopify_id and _can_auto_link(customer, "shopify"):
            found = _match(customer, client.find_customer_by_email, client.find_customer_by_phone)
            shopify_id = str(found.id) if found else ""
        if not shopify_id:
            return None, SectionState(status=SectionStatus.NOT_LINKED)
        result = client.get_customer_with_orders(int(shopify_id), first=RECENT_ORDERS)
        if result is None:
            return _fallback(
                customer,
                "shopify",
                ShopifySection,
                "not_found",
                f"Shopify customer {shopify_id} no longer exists.",
            )
        section = ShopifySection(customer=result[0], orders=result[1])
    except (ProviderError, ValueError) as exc:
        return _fallback(customer, "shopify", ShopifySection, _code(exc), str(exc))
    return section, _store(customer, "shopify", shopify_id, section)


# PERP ------------------------------------------------------------------------------------------


def refresh_perp_section(
    customer: Customer, *, is_interactive: bool = True
) -> tuple[PerpSection | None, SectionState]:
    if not PerpClient.is_configured():
        return None, SectionState(status=SectionStatus.NOT_CONFIGURED)
    try:
        client = PerpClient.from_settings(**(INTERACTIVE if is_interactive else {}))
        perp_id = customer.perp_customer_id
        if not perp_id and _can_auto_link(customer, "perp"):
            found = _match(
                customer, client.search_customer_by_email, client.search_customer_by_phone
            )
            perp_id = found.id if found else ""
        if not perp_id:
            return None, SectionState(status=SectionStatus.NOT_LINKED)
        section = fetch_perp_section(client, perp_id)
    except ProviderError as exc:
        return _fallback(customer, "perp", PerpSection, _code(exc), str(exc))
    return section, _store(customer, "perp", perp_id, section)


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


# Shared ----------------------------------------------------------------------------------------


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


def _store(customer: Customer, provider: str, external_id: str, section) -> SectionState:
    """Remember the link and the snapshot on the customer (the fallback when it fails later)."""
    now = timezone.now()
    snapshot = {"fetched_at": now.isoformat(), "data": to_jsonable(section)}
    previous = (customer.external_data or {}).get(provider) or {}
    id_field = "shopify_customer_id" if provider == "shopify" else "perp_customer_id"
    if getattr(customer, id_field) != external_id or previous.get("data") != snapshot["data"]:
        updated = link_customer_account(
            customer=customer, provider=provider, external_id=external_id, snapshot=snapshot
        )
        customer.external_data = updated.external_data
        setattr(customer, id_field, external_id)
    return SectionState(status=SectionStatus.OK, fetched_at=now)


def _fallback(customer: Customer, provider: str, section_type, code: str, message: str):
    logger.warning("%s.context.failed customer=%s code=%s", provider, customer.pk, code)
    snapshot = (customer.external_data or {}).get(provider) or {}
    section, fetched_at = None, None
    if snapshot.get("data"):
        try:
            section = from_jsonable(section_type, snapshot["data"])
            fetched_at = parse_datetime(snapshot.get("fetched_at") or "")
        except RecordError:
            section = None
    return section, SectionState(
        status=SectionStatus.ERROR,
        error=message,
        error_code=code,
        fetched_at=fetched_at,
        is_stale=section is not None,
    )


# Orders mentioned in text ----------------------------------------------------------------------


def find_order_numbers(text: str) -> list[str]:
    """`#1001` (Shopify) and `PD-ORD-10042` (PERP) order numbers in `text`, in order, once."""
    found = [(m.start(), m.group()) for m in SHOPIFY_ORDER_NUMBER.finditer(text or "")]
    found += [(m.start(), m.group()) for m in ORDER_NUMBER.finditer(text or "")]
    return list(dict.fromkeys(number for _, number in sorted(found)))


def list_ticket_order_numbers(*, ticket: Ticket, limit: int = 10) -> list[str]:
    bodies = [
        ticket.subject,
        *ticket.messages.order_by("-created_at").values_list("body", flat=True)[:30],
    ]
    return find_order_numbers("\n".join(bodies))[:limit]


@dataclass(frozen=True)
class OrderDetail:
    number: str
    shopify: ShopifyOrder | None = None
    perp: PerpOrderDetail | None = None
    invoices: list[Invoice] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def get_order_detail(*, customer: Customer, number: str) -> OrderDetail:
    """One order by its Shopify name or PERP number, with whatever the other side knows."""
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


def get_customer_for_context(*, customer_id: int) -> Customer:
    customer = Customer.objects.prefetch_related("identities").filter(pk=customer_id).first()
    if customer is None:
        raise NotFound("No such customer.", code="customer_not_found")
    return customer


def get_ticket_reference_for_customer(*, customer: Customer, reference: str) -> Ticket | None:
    """The ticket named in `?ticket=`, only if it belongs to this customer."""
    if not reference:
        return None
    return Ticket.objects.filter(reference=reference, customer=customer).first()


def get_compliance_person(*, webhook_event_id: int) -> list[str]:
    """The email and phone a stored Shopify compliance webhook names (docs/privacy.md)."""
    payload = (
        WebhookEvent.objects.filter(pk=webhook_event_id).values_list("payload", flat=True).first()
    )
    person = (payload or {}).get("customer") if isinstance(payload, dict) else None
    if not isinstance(person, dict):
        return []
    return [str(person[key]) for key in ("email", "phone") if person.get(key)]
