"""Shopify product builders for knowledge tests, and the demo catalog loader."""

import itertools
import json
from pathlib import Path

from django.conf import settings

from integrations.shopify.types import ProductImage, ProductPage, ProductVariant, ShopifyProduct

CATALOG_PATH = Path(settings.BASE_DIR) / "fixtures" / "shopify-products.json"
_ids = itertools.count(9_100_000_000_000)


def make_product(
    *,
    title: str,
    description_html: str = "",
    product_type: str = "",
    tags: list[str] | None = None,
    prices: tuple[str, ...] = ("10.00",),
    shopify_id: int | None = None,
    status: str = "active",
) -> ShopifyProduct:
    pid = shopify_id or next(_ids)
    return ShopifyProduct(
        id=pid,
        title=title,
        handle=title.lower().replace(" ", "-"),
        product_type=product_type,
        vendor="Inkwell Print Co.",
        tags=tags or [],
        description_html=description_html,
        status=status,
        updated_at=None,
        variants=[
            ProductVariant(
                id=pid * 10 + n,
                title=f"Size {n}",
                sku=f"SKU-{pid}-{n}",
                price=price,
                options={"Size": f"Size {n}"},
            )
            for n, price in enumerate(prices, start=1)
        ],
        images=[ProductImage(url=f"https://cdn.example.test/{pid}.jpg", alt=title)],
    )


def load_demo_catalog() -> list[ShopifyProduct]:
    data = json.loads(CATALOG_PATH.read_text())
    return [ShopifyProduct.from_rest(item) for item in data["products"]]


def pages_of(products: list[ShopifyProduct]):
    """A `list_products(first=, after=)` source over a fixed list, cursors being offsets."""
    calls = []

    def list_products(*, first: int = 50, after: str | None = None) -> ProductPage:
        calls.append((first, after))
        start = int(after or 0)
        chunk = products[start : start + first]
        end = start + len(chunk)
        has_next = end < len(products)
        return ProductPage(
            products=chunk, end_cursor=str(end) if has_next else None, has_next_page=has_next
        )

    list_products.calls = calls
    return list_products
