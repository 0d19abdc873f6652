"""Typed Shopify records shared by the client, the webhook handlers and product knowledge.

The client builds them from Admin GraphQL responses; `from_rest` builds them from the Admin REST
/ webhook JSON shape (products webhooks and `fixtures/shopify-products.json` use it).
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_datetime


@dataclass(frozen=True)
class ProductVariant:
    id: int
    title: str
    sku: str
    price: str
    options: dict[str, str]


@dataclass(frozen=True)
class ProductImage:
    url: str
    alt: str = ""


@dataclass(frozen=True)
class ShopifyProduct:
    id: int
    title: str
    handle: str
    product_type: str
    vendor: str
    tags: list[str]
    description_html: str
    status: str
    updated_at: datetime | None
    variants: list[ProductVariant] = field(default_factory=list)
    images: list[ProductImage] = field(default_factory=list)

    @classmethod
    def from_rest(cls, data: dict[str, Any]) -> "ShopifyProduct":
        option_names = [
            o.get("name", f"Option {i + 1}") for i, o in enumerate(data.get("options") or [])
        ]
        variants = []
        for v in data.get("variants") or []:
            values = [v.get(f"option{i}") for i in (1, 2, 3)]
            names = option_names or [f"Option {i}" for i in (1, 2, 3)]
            variants.append(
                ProductVariant(
                    id=int(v["id"]),
                    title=v.get("title") or "",
                    sku=v.get("sku") or "",
                    price=str(v.get("price") or ""),
                    options={n: val for n, val in zip(names, values, strict=False) if val},
                )
            )
        tags = data.get("tags") or ""
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.split(",") if t.strip()]
        return cls(
            id=int(data["id"]),
            title=data.get("title") or "",
            handle=data.get("handle") or "",
            product_type=data.get("product_type") or "",
            vendor=data.get("vendor") or "",
            tags=list(tags),
            description_html=data.get("body_html") or "",
            status=(data.get("status") or "active").lower(),
            updated_at=parse_datetime(data["updated_at"]) if data.get("updated_at") else None,
            variants=variants,
            images=[
                ProductImage(url=i.get("src") or "", alt=i.get("alt") or "")
                for i in data.get("images") or []
            ],
        )

    @classmethod
    def from_graphql(cls, node: dict[str, Any]) -> "ShopifyProduct":
        """The Admin GraphQL `Product` shape the client queries (see client.PRODUCTS_QUERY).

        Images come from `media` (`Product.images` is deprecated), MediaImage nodes only.
        """
        variants = [
            ProductVariant(
                id=legacy_id(v["id"]),
                title=v.get("title") or "",
                sku=v.get("sku") or "",
                price=str(v.get("price") or ""),
                options={o["name"]: o["value"] for o in v.get("selectedOptions") or []},
            )
            for v in _nodes(node.get("variants"))
        ]
        return cls(
            id=legacy_id(node["id"]),
            title=node.get("title") or "",
            handle=node.get("handle") or "",
            product_type=node.get("productType") or "",
            vendor=node.get("vendor") or "",
            tags=list(node.get("tags") or []),
            description_html=node.get("descriptionHtml") or "",
            status=(node.get("status") or "active").lower(),
            updated_at=parse_datetime(node["updatedAt"]) if node.get("updatedAt") else None,
            variants=variants,
            images=[
                ProductImage(url=i.get("url") or "", alt=i.get("altText") or "")
                for i in (m.get("image") for m in _nodes(node.get("media")))
                if i  # only MediaImage nodes carry an image (not videos or 3D models)
            ],
        )


@dataclass(frozen=True)
class ProductPage:
    products: list[ShopifyProduct]
    end_cursor: str | None
    has_next_page: bool


def legacy_id(gid_or_id: str | int) -> int:
    """`gid://shopify/Customer/207119551` (GraphQL) or 207119551 (REST) -> 207119551."""
    return int(str(gid_or_id).rsplit("/", 1)[-1])


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        return Decimal("0")


def _shop_money(price_set: dict[str, Any] | None) -> tuple[Decimal, str]:
    money = (price_set or {}).get("shopMoney") or {}
    return _money(money.get("amount")), money.get("currencyCode") or ""


def _datetime(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) and value else None


def _nodes(connection: dict[str, Any] | list | None) -> list[dict[str, Any]]:
    if isinstance(connection, list):
        return connection
    connection = connection or {}
    if "nodes" in connection:
        return connection["nodes"] or []
    return [edge["node"] for edge in connection.get("edges") or []]


@dataclass(frozen=True)
class ShopifyCustomer:
    id: int
    name: str
    email: str
    phone: str
    orders_count: int
    amount_spent: Decimal
    currency: str
    created_at: datetime | None
    tags: list[str] = field(default_factory=list)
    state: str = ""
    updated_at: datetime | None = None

    @classmethod
    def from_graphql(cls, node: dict[str, Any]) -> "ShopifyCustomer":
        amount, currency = (
            _money((node.get("amountSpent") or {}).get("amount")),
            (node.get("amountSpent") or {}).get("currencyCode") or "",
        )
        email = (node.get("defaultEmailAddress") or {}).get("emailAddress") or ""
        phone = (node.get("defaultPhoneNumber") or {}).get("phoneNumber") or ""
        name = node.get("displayName") or " ".join(
            p for p in (node.get("firstName"), node.get("lastName")) if p
        )
        return cls(
            id=legacy_id(node["id"]),
            name=name,
            email=email,
            phone=phone,
            orders_count=int(node.get("numberOfOrders") or 0),
            amount_spent=amount,
            currency=currency,
            created_at=parse_datetime(node["createdAt"]) if node.get("createdAt") else None,
            tags=list(node.get("tags") or []),
            state=(node.get("state") or "").lower(),
            updated_at=_datetime(node.get("updatedAt")),
        )

    @classmethod
    def from_rest(cls, data: dict[str, Any]) -> "ShopifyCustomer":
        tags = data.get("tags") or ""
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.split(",") if t.strip()]
        name = " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p)
        return cls(
            id=int(data["id"]),
            name=name,
            email=data.get("email") or "",
            phone=data.get("phone") or "",
            orders_count=int(data.get("orders_count") or 0),
            amount_spent=_money(data.get("total_spent")),
            currency=data.get("currency") or "",
            created_at=parse_datetime(data["created_at"]) if data.get("created_at") else None,
            tags=list(tags),
            state=(data.get("state") or "").lower(),
            updated_at=_datetime(data.get("updated_at")),
        )


@dataclass(frozen=True)
class LineItem:
    title: str
    quantity: int
    sku: str = ""
    variant_title: str = ""


@dataclass(frozen=True)
class Tracking:
    company: str
    number: str
    url: str = ""


@dataclass(frozen=True)
class ShopifyOrder:
    id: int
    name: str
    created_at: datetime | None
    financial_status: str
    fulfillment_status: str
    total: Decimal
    currency: str
    customer_id: int | None = None
    cancelled_at: datetime | None = None
    status_url: str = ""
    line_items: list[LineItem] = field(default_factory=list)
    tracking: list[Tracking] = field(default_factory=list)
    updated_at: datetime | None = None

    @classmethod
    def from_graphql(cls, node: dict[str, Any]) -> "ShopifyOrder":
        total, currency = _shop_money(node.get("totalPriceSet"))
        tracking = [
            Tracking(
                company=t.get("company") or "", number=t.get("number") or "", url=t.get("url") or ""
            )
            for f in _nodes(node.get("fulfillments"))
            for t in f.get("trackingInfo") or []
        ]
        customer = node.get("customer") or {}
        return cls(
            id=legacy_id(node["id"]),
            name=node.get("name") or "",
            created_at=parse_datetime(node["createdAt"]) if node.get("createdAt") else None,
            financial_status=node.get("displayFinancialStatus") or "",
            fulfillment_status=node.get("displayFulfillmentStatus") or "",
            total=total,
            currency=currency,
            customer_id=legacy_id(customer["id"]) if customer.get("id") else None,
            cancelled_at=parse_datetime(node["cancelledAt"]) if node.get("cancelledAt") else None,
            status_url=node.get("statusPageUrl") or "",
            updated_at=_datetime(node.get("updatedAt")),
            line_items=[
                LineItem(
                    title=li.get("title") or "",
                    quantity=int(li.get("quantity") or 0),
                    sku=li.get("sku") or "",
                    variant_title=li.get("variantTitle") or "",
                )
                for li in _nodes(node.get("lineItems"))
            ],
            tracking=tracking,
        )

    @classmethod
    def from_rest(cls, data: dict[str, Any]) -> "ShopifyOrder":
        """The orders/* webhook (REST) shape: lower-case statuses, null fulfillment_status."""
        fulfillment = (data.get("fulfillment_status") or "unfulfilled").upper()
        fulfillment = {"PARTIAL": "PARTIALLY_FULFILLED"}.get(fulfillment, fulfillment)
        tracking = []
        for f in data.get("fulfillments") or []:
            numbers = f.get("tracking_numbers") or [f.get("tracking_number")]
            urls = f.get("tracking_urls") or [f.get("tracking_url")]
            for i, number in enumerate(n for n in numbers if n):
                url = urls[i] if i < len(urls) and urls[i] else ""
                tracking.append(
                    Tracking(company=f.get("tracking_company") or "", number=number, url=url)
                )
        customer = data.get("customer") or {}
        return cls(
            id=int(data["id"]),
            name=data.get("name") or "",
            created_at=parse_datetime(data["created_at"]) if data.get("created_at") else None,
            financial_status=(data.get("financial_status") or "").upper(),
            fulfillment_status=fulfillment,
            total=_money(data.get("total_price")),
            currency=data.get("currency") or "",
            customer_id=int(customer["id"]) if customer.get("id") else None,
            cancelled_at=parse_datetime(data["cancelled_at"]) if data.get("cancelled_at") else None,
            status_url=data.get("order_status_url") or "",
            updated_at=_datetime(data.get("updated_at")),
            line_items=[
                LineItem(
                    title=li.get("title") or "",
                    quantity=int(li.get("quantity") or 0),
                    sku=li.get("sku") or "",
                    variant_title=li.get("variant_title") or "",
                )
                for li in data.get("line_items") or []
            ],
            tracking=tracking,
        )


@dataclass(frozen=True)
class ShopInfo:
    name: str
    domain: str


BULK_FINISHED = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})


@dataclass(frozen=True)
class BulkOperation:
    """A Shopify bulk operation: CREATED/RUNNING until one of BULK_FINISHED; `url` (JSONL, valid
    seven days) once COMPLETED, `partial_url` when it FAILED after writing some data."""

    id: str
    status: str
    error_code: str = ""
    object_count: int = 0
    root_object_count: int = 0
    url: str = ""
    partial_url: str = ""

    @property
    def is_finished(self) -> bool:
        return self.status in BULK_FINISHED

    @classmethod
    def from_graphql(cls, node: dict[str, Any]) -> "BulkOperation":
        return cls(
            id=node["id"],
            status=node.get("status") or "",
            error_code=node.get("errorCode") or "",
            object_count=int(node.get("objectCount") or 0),
            root_object_count=int(node.get("rootObjectCount") or 0),
            url=node.get("url") or "",
            partial_url=node.get("partialDataUrl") or "",
        )
