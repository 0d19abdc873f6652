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


class CatalogPages:
    """A stand-in for the Shopify client in paged catalog syncs: a fixed product list, offsets
    as cursors, `calls` recording each page asked for."""

    def __init__(self, products: list[ShopifyProduct], page_size: int) -> None:
        self.products = products
        self.page_size = page_size
        self.calls: list[str | None] = []

    def count_products(self) -> int:
        return len(self.products)

    def list_products(self, *, after: str | None = None) -> ProductPage:
        self.calls.append(after)
        start = int(after or 0)
        chunk = self.products[start : start + self.page_size]
        end = start + len(chunk)
        has_next = end < len(self.products)
        return ProductPage(
            products=chunk, end_cursor=str(end) if has_next else None, has_next_page=has_next
        )


def pages_of(products: list[ShopifyProduct], *, page_size: int = 50) -> CatalogPages:
    return CatalogPages(products, page_size)
