"""Customer 360: what Shopify and PERP said about a helpdesk customer when last asked.

`get_customer_context` is what the sidebar, the JSON API, rules and reply drafts read: the
snapshot stored on the customer (`Customer.external_data[provider]`) with how fresh it is. It
makes no HTTP call and writes nothing; asking the providers again is
`integrations.context_refresh` (a task on the bulk queue that pages request through
`integrations.customer_context`).
"""

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.errors import NotFound
from integrations.models import WebhookEvent
from integrations.perp.client import PerpClient
from integrations.perp.types import (
    ORDER_NUMBER,
    Artwork,
    Invoice,
    PerpCustomer,
    PerpOrder,
    ProductionStatus,
    VipWallet,
)
from integrations.records import RecordError, from_jsonable
from integrations.shopify.client import ShopifyClient
from integrations.shopify.types import ShopifyCustomer, ShopifyOrder
from tickets.models import Customer, Ticket
from tickets.services import EXTERNAL_ID_FIELDS

logger = logging.getLogger(__name__)

# How long a provider's answer is shown without asking again; a failed check is retried sooner,
# so recovery shows up soon.
FRESH_FOR = timedelta(minutes=2)
FAILED_FRESH_FOR = timedelta(seconds=15)
SHOPIFY_ORDER_NUMBER = re.compile(r"(?<![&\w])#\d{4,}\b")


class SectionStatus:
    OK = "ok"
    NOT_CONFIGURED = "not_configured"
    NOT_LINKED = "not_linked"
    NOT_FETCHED = "not_fetched"
    ERROR = "error"


@dataclass(frozen=True)
class SectionState:
    status: str
    error: str = ""
    error_code: str = ""
    fetched_at: datetime | None = None  # when the data shown was fetched
    checked_at: datetime | None = None  # when the provider was last asked
    is_fallback: bool = False  # the last check failed; the data shown is from an earlier one
    is_stale: bool = False  # due for a refresh


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
    shopify: ShopifySection | None = None
    perp: PerpSection | None = None
    checked_at: datetime | None = None  # the oldest check of a configured provider
    is_stale: bool = False
    is_refreshing: bool = False  # a background refresh is pending

    @property
    def errors(self) -> dict[str, str]:
        states = {"shopify": self.shopify_state, "perp": self.perp_state}
        return {p: s.error for p, s in states.items() if s.status == SectionStatus.ERROR}

    def invoices_for(self, order_id: str) -> list[Invoice]:
        return [i for i in (self.perp.invoices if self.perp else []) if i.order_id == order_id]


def refresh_requested_key(customer_id: int) -> str:
    """The cache key marking a pending background refresh of this customer's context."""
    return f"integrations:customer-context:refresh-requested:{customer_id}"


def get_customer_context(*, customer: Customer) -> CustomerContext:
    """The stored Shopify and PERP sections of `customer`, with their freshness."""
    now = timezone.now()
    shopify, shopify_state = _stored_section(
        customer, "shopify", ShopifySection, ShopifyClient.is_configured(), now
    )
    perp, perp_state = _stored_section(
        customer, "perp", PerpSection, PerpClient.is_configured(), now
    )
    checks = [
        s.checked_at
        for s in (shopify_state, perp_state)
        if s.status != SectionStatus.NOT_CONFIGURED
    ]
    return CustomerContext(
        customer_id=customer.pk,
        shopify=shopify,
        perp=perp,
        shopify_state=shopify_state,
        perp_state=perp_state,
        checked_at=min(checks) if checks and None not in checks else None,
        is_stale=shopify_state.is_stale or perp_state.is_stale,
        is_refreshing=cache.get(refresh_requested_key(customer.pk)) is not None,
    )


def _stored_section(customer: Customer, provider: str, section_type, is_configured: bool, now):
    """One provider's section from `external_data[provider]`: `data` and `fetched_at` (the last
    good answer), `checked_at`, and `error`/`error_code` when the last check failed."""
    if not is_configured:
        return None, SectionState(status=SectionStatus.NOT_CONFIGURED)
    entry = (customer.external_data or {}).get(provider) or {}
    section = None
    if entry.get("data"):
        try:
            section = from_jsonable(section_type, entry["data"])
        except RecordError:
            logger.warning("%s.context.bad_snapshot customer=%s", provider, customer.pk)
    fetched_at = _time(entry.get("fetched_at")) if section is not None else None
    checked_at = _time(entry.get("checked_at")) or fetched_at
    if entry.get("error"):
        status = SectionStatus.ERROR
    elif section is not None:
        status = SectionStatus.OK
    elif checked_at is not None and not getattr(customer, EXTERNAL_ID_FIELDS[provider]):
        status = SectionStatus.NOT_LINKED
    else:
        status = SectionStatus.NOT_FETCHED
    fresh_for = FAILED_FRESH_FOR if status == SectionStatus.ERROR else FRESH_FOR
    return section, SectionState(
        status=status,
        error=entry.get("error", ""),
        error_code=entry.get("error_code", ""),
        fetched_at=fetched_at,
        checked_at=checked_at,
        is_fallback=status == SectionStatus.ERROR and section is not None,
        is_stale=checked_at is None or now - checked_at > fresh_for,
    )


def _time(value) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


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
