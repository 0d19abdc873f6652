"""Typed Shopify records shared by the client, the webhook handlers and product knowledge.

The client builds them from Admin GraphQL responses; `from_rest` builds them from the Admin REST
/ webhook JSON shape (products webhooks and `fixtures/shopify-products.json` use it).
"""

from dataclasses import dataclass, field
from datetime import datetime
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


@dataclass(frozen=True)
class ProductPage:
    products: list[ShopifyProduct]
    end_cursor: str | None
    has_next_page: bool
