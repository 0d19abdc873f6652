"""`python -m bench.search_worker N SEARCHES MODES`: product search latency at N products.

Runs with bench settings against the search benchmark's database. The catalog fixture (150 real
print products) is multiplied into N distinct products and loaded through
`knowledge.services.upsert_product` (the path webhooks and syncs take), then embedded with
`embed_products` when the ML extra is installed. Kept between runs when already in place.
Timings are of `search_products` in-process; the model is loaded before timing starts.
Prints {"lexical": [ms...], "hybrid": [ms...], "semantic_available": bool, "products": N}.
"""

import copy
import json
import sys
import time
from pathlib import Path

import django

ID_BASE = 8_000_000_000
EDITIONS = [
    "",
    "Premium",
    "Eco",
    "Express",
    "Large Format",
    "Mini",
    "Deluxe",
    "Recycled",
    "Trade",
    "Bulk",
    "Matte",
    "Soft-Touch",
    "Metallic",
    "Kraft",
    "Linen",
]
QUERIES = [
    "business cards",
    "matte brochure tri-fold",
    "waterproof vinyl stickers",
    "banner stand for trade show",
    "bussiness cards gloss",
    "wedding invitations with foil",
    "cheap flyers 500",
    "window film perforated",
    "spiral bound book",
    "car magnet",
]


def catalog_products(count: int) -> list[dict]:
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "shopify-products.json"
    base = json.loads(fixture.read_text())["products"]
    products = []
    for n in range(count):
        data = copy.deepcopy(base[n % len(base)])
        edition = EDITIONS[(n // len(base)) % len(EDITIONS)]
        series = n // (len(base) * len(EDITIONS))
        suffix = " ".join(part for part in (edition, f"Series {series}" if series else "") if part)
        data["id"] = ID_BASE + n
        data["title"] = f"{data['title']} {suffix}".strip()
        data["handle"] = f"{data.get('handle') or 'product'}-{n}"
        for k, variant in enumerate(data.get("variants") or []):
            variant["id"] = (ID_BASE + n) * 100 + k
        products.append(data)
    return products


def load(count: int, *, embed: bool) -> None:
    from integrations.shopify.types import ShopifyProduct
    from knowledge import services
    from knowledge.models import ProductKnowledge

    have = ProductKnowledge.objects.filter(shopify_id__gte=ID_BASE).count()
    if have != count or ProductKnowledge.objects.count() != count:
        ProductKnowledge.objects.all().delete()
        started = time.perf_counter()
        for data in catalog_products(count):
            services.upsert_product(product=ShopifyProduct.from_rest(data))
        log(f"loaded {count} products in {time.perf_counter() - started:.1f}s")
    if embed:
        started = time.perf_counter()
        embedded = services.embed_products()
        if embedded:
            log(f"embedded {embedded} products in {time.perf_counter() - started:.1f}s")


def log(line: str) -> None:
    print(f"  {line}", file=sys.stderr, flush=True)


def timed(query: str, mode: str) -> float:
    from knowledge.selectors import search_products

    started = time.perf_counter()
    search_products(query=query, mode=mode, limit=10)
    return (time.perf_counter() - started) * 1000


def main(count: int, searches: int, modes: list[str]) -> dict:
    django.setup()
    from knowledge import embeddings

    semantic = embeddings.is_available()
    modes = [m for m in modes if m == "lexical" or semantic]
    load(count, embed="hybrid" in modes)
    out: dict = {"semantic_available": semantic, "products": count}
    for mode in modes if searches else []:
        timed(QUERIES[0], mode)  # warm-up: model load, connections, statement caches
        out[mode] = [timed(QUERIES[n % len(QUERIES)], mode) for n in range(searches)]
    return out


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(","))))
