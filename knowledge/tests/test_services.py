from dataclasses import replace

import pytest

from accounts.tests.factories import UserFactory
from core.errors import ApplicationError
from integrations.models import ShopifySyncLog, SyncMode, SyncStatus
from integrations.shopify.client import ShopifyUnavailable
from knowledge import catalog_sync, services
from knowledge.models import ProductKnowledge
from knowledge.selectors import SearchMode, search_products
from knowledge.tests.factories import CatalogPages, load_demo_catalog, make_product, pages_of

pytestmark = pytest.mark.django_db


def test_html_to_text_strips_tags_and_decodes_entities():
    text = services.html_to_text("<p>Two &mdash; panels</p><ul><li>Gloss</li><li>Matte</li></ul>")
    assert text == "Two \u2014 panels\nGloss\nMatte"


def test_upsert_product_flattens_variants_images_and_text():
    product = make_product(
        title="Vinyl Banner",
        description_html="<p>Outdoor <b>13oz</b> vinyl</p>",
        prices=("40", "55"),
    )
    item = services.upsert_product(product=product)
    assert item.description_text == "Outdoor 13oz vinyl"
    assert [v["price"] for v in item.variants] == ["40", "55"]
    assert item.variants[0]["options"] == {"Size": "Size 1"}
    assert item.images[0]["url"].endswith(f"{product.id}.jpg")
    assert "Size: Size 1, Size 2" in item.search_text
    assert len(item.content_hash) == 64


def test_upsert_with_same_content_does_not_rewrite(django_assert_num_queries):
    product = make_product(title="Flyers")
    first = services.upsert_product(product=product)
    with django_assert_num_queries(3):  # savepoint, SELECT ... FOR UPDATE, release
        again = services.upsert_product(product=product)
    assert again.updated_at == first.updated_at


def test_upsert_with_changed_content_updates_and_reindexes():
    product = make_product(title="Flyers")
    first = services.upsert_product(product=product)
    changed = services.upsert_product(product=replace(product, title="Glossy Flyers"))
    assert changed.pk == first.pk
    assert changed.content_hash != first.content_hash
    assert [p.pk for p in search_products(query="glossy", mode="lexical").products] == [first.pk]


def test_remove_product_deletes_it_from_search():
    product = make_product(title="Canvas Prints")
    services.upsert_product(product=product)
    assert services.remove_product(shopify_id=product.id) is True
    assert not ProductKnowledge.objects.exists()
    assert search_products(query="canvas", mode="lexical").products == []
    assert services.remove_product(shopify_id=product.id) is False


def test_sync_catalog_pages_through_and_logs_progress():
    products = [make_product(title=f"Poster {n}") for n in range(7)]
    source = pages_of(products, page_size=3)
    log = catalog_sync.sync_catalog(source=source)
    assert source.calls == [None, "3", "6"]
    assert ProductKnowledge.objects.count() == 7
    log.refresh_from_db()
    assert (log.resource, log.status, log.mode, log.items_seen, log.items_created) == (
        "products",
        SyncStatus.SUCCEEDED,
        SyncMode.PAGED,
        7,
        7,
    )
    assert log.items_total == 7 and log.progress_percent == 100
    assert log.finished_at is not None and log.cursor == "" and log.seen_ids == []


def test_sync_catalog_skips_unchanged_and_deletes_missing():
    products = [make_product(title=f"Poster {n}") for n in range(4)]
    catalog_sync.sync_catalog(source=pages_of(products, page_size=2))
    changed = [replace(products[0], title="Poster zero"), *products[1:3]]
    log = catalog_sync.sync_catalog(source=pages_of(changed, page_size=2))
    assert (log.items_seen, log.items_created, log.items_updated) == (3, 0, 1)
    assert sorted(ProductKnowledge.objects.values_list("title", flat=True)) == [
        "Poster 1",
        "Poster 2",
        "Poster zero",
    ]


def test_sync_catalog_failure_is_logged_and_deletes_nothing():
    services.upsert_product(product=make_product(title="Keep me"))

    class Down(CatalogPages):
        def list_products(self, *, after=None):
            raise ShopifyUnavailable("shopify down")

    with pytest.raises(ShopifyUnavailable):
        catalog_sync.sync_catalog(source=Down([], 1))
    log = ShopifySyncLog.objects.get()
    assert log.status == SyncStatus.FAILED
    assert "shopify down" in log.error and log.lease_until is None
    assert ProductKnowledge.objects.count() == 1


def test_product_notes_are_searched():
    item = services.upsert_product(product=make_product(title="Flyers"))
    agent = UserFactory()
    note = services.add_product_note(product=item, author=agent, body="Turnaround 2 days on 300gsm")
    assert search_products(query="300gsm", mode="lexical").products == [item]
    services.delete_product_note(note=note, actor=agent)
    assert search_products(query="300gsm", mode="lexical").products == []


def test_empty_note_is_rejected():
    item = services.upsert_product(product=make_product(title="Flyers"))
    with pytest.raises(ApplicationError) as exc:
        services.add_product_note(product=item, author=UserFactory(), body="  ")
    assert exc.value.code == "empty_note"


def test_demo_catalog_loads():
    catalog = load_demo_catalog()
    log = catalog_sync.sync_catalog(source=pages_of(catalog))
    assert log.items_created == len(catalog) == ProductKnowledge.objects.count()
    assert search_products(query="vinyl banner", mode=SearchMode.LEXICAL).products


def test_sync_catalog_from_the_fake_shopify_server(fake_shopify):
    log = catalog_sync.sync_catalog()
    catalog = load_demo_catalog()
    assert log.mode == SyncMode.PAGED  # 150 products: under the bulk threshold
    assert log.items_seen == len(catalog) == ProductKnowledge.objects.count()
    stickers = ProductKnowledge.objects.get(title="Die-Cut Vinyl Stickers")
    assert stickers.variants and stickers.images
    again = catalog_sync.sync_catalog()
    assert (again.items_created, again.items_updated) == (0, 0)


def test_import_products_is_idempotent():
    catalog = load_demo_catalog()[:10]
    assert services.import_products(products=catalog) == 10
    assert services.import_products(products=catalog) == 0
    assert ProductKnowledge.objects.count() == 10
