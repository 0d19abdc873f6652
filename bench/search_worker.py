"""`python -m bench.search_worker CONFIG_JSON`: product search latency at N products.

Runs with bench settings against the search benchmark's database. The catalog fixture (150 real
print products) is multiplied into N distinct products and loaded through
`knowledge.services.upsert_product` (the path webhooks and syncs take), then embedded with
`embed_products` when the ML extra is installed (one real embedding per catalog entry, shared by
its editions: see `share_embeddings`). Kept between runs when already in place.
Timings are of `search_products` in-process; the model is loaded before timing starts.
Config: {"products", "searches", "repeats", "modes", "max_seconds"} (per mode and repeat).
Prints {"lexical": [[ms...] per repeat], "hybrid": [...], "semantic_available": bool, ...}.
Passage vectors of the catalog are kept in bench/results/embeddings.sqlite3 between runs.
"""

import copy
import json
import sys
import time
from pathlib import Path

import django

ID_BASE = 8_000_000_000
LOAD_BATCH = 500
EMBEDDING_CACHE = Path(__file__).resolve().parent / "results" / "embeddings.sqlite3"
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


def catalog() -> list[dict]:
    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "shopify-products.json"
    return json.loads(fixture.read_text())["products"]


def catalog_products(count: int) -> list[dict]:
    base = catalog()
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
        items = [ShopifyProduct.from_rest(data) for data in catalog_products(count)]
        for start in range(0, len(items), LOAD_BATCH):
            # The batch path a catalog sync takes (one statement per index per batch).
            services.upsert_products(products=items[start : start + LOAD_BATCH])
        log(f"loaded {count} products in {time.perf_counter() - started:.1f}s")
    if embed and ProductKnowledge.objects.filter(embedded_hash="").exists():
        started = time.perf_counter()
        share_embeddings(len(catalog()))
        log(f"embedded products in {time.perf_counter() - started:.1f}s")


def share_embeddings(distinct: int) -> None:
    """Embed one product per catalog entry for real, then give its editions the same vector.

    Embedding 10k texts takes tens of minutes on 2 shared cores, and a query's latency does not
    depend on which vector a row holds (every row is scored), only on how many there are.
    """
    from knowledge import services
    from knowledge.models import ProductKnowledge

    base_ids = [ID_BASE + n for n in range(distinct)]
    services.embed_products(
        product_ids=list(
            ProductKnowledge.objects.filter(shopify_id__in=base_ids).values_list("pk", flat=True)
        )
    )
    embedded = {
        shopify_id: (embedding, embedded_hash)
        for shopify_id, embedding, embedded_hash in ProductKnowledge.objects.filter(
            shopify_id__in=base_ids
        ).values_list("shopify_id", "embedding", "embedded_hash")
    }
    copies = ProductKnowledge.objects.filter(embedded_hash="").only("pk", "shopify_id")
    for product in copies.iterator():
        # The base's passage vectors (same count of passages) and hash, so the row is embedded.
        product.embedding, product.embedded_hash = embedded[
            ID_BASE + (product.shopify_id - ID_BASE) % distinct
        ]
        product.save(update_fields=["embedding", "embedded_hash"])


def log(line: str) -> None:
    print(f"  {line}", file=sys.stderr, flush=True)


def timed(query: str, mode: str) -> float:
    """One search; `hybrid-new` is hybrid with the query-embedding cache emptied first (a
    question nobody asked before), the others repeat the same 10 questions."""
    from knowledge import embeddings
    from knowledge.selectors import search_products

    if mode == "hybrid-new":
        embeddings.clear_query_cache()
    started = time.perf_counter()
    search_products(query=query, mode=mode.removesuffix("-new"), limit=10)
    return (time.perf_counter() - started) * 1000


def main(config: dict) -> dict:
    django.setup()
    from knowledge import embeddings

    semantic = embeddings.is_available()
    modes = [m for m in config["modes"] if m == "lexical" or semantic]
    if semantic:
        embeddings.use_disk_cache(EMBEDDING_CACHE)  # vectors of the catalog kept between runs
    load(config["products"], embed=any(m.startswith("hybrid") for m in modes))
    out: dict = {"semantic_available": semantic, "products": config["products"]}
    for mode in modes if config["searches"] else []:
        timed(QUERIES[0], mode)  # warm-up: model load, connections, statement caches
        out[mode] = []
        for _ in range(config["repeats"]):
            deadline = time.perf_counter() + config["max_seconds"]
            timings: list[float] = []
            while len(timings) < config["searches"] and (
                len(timings) < 3 or time.perf_counter() < deadline
            ):
                timings.append(timed(QUERIES[len(timings) % len(QUERIES)], mode))
            out[mode].append(timings)
    return out


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
