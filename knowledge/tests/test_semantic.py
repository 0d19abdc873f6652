"""Semantic and hybrid search with the real all-MiniLM-L6-v2 model (the ML extra)."""

import pytest

from knowledge import catalog_sync, services
from knowledge.models import ProductKnowledge
from knowledge.selectors import SearchMode, search_products
from knowledge.tests.factories import load_demo_catalog, make_product, pages_of

pytestmark = [pytest.mark.ml, pytest.mark.django_db, pytest.mark.usefixtures("ml_model")]


@pytest.fixture
def small_catalog(django_capture_on_commit_callbacks):
    items = [
        make_product(
            title="Premium Business Cards",
            description_html="<p>16pt card stock finished with a high-gloss UV coating.</p>",
        ),
        make_product(
            title="Classic Business Cards",
            description_html="<p>Smooth uncoated 16pt matte stock with a soft feel.</p>",
        ),
        make_product(
            title="Photo Posters", description_html="<p>Large wall posters on photo paper.</p>"
        ),
        make_product(title="Vinyl Banners", description_html="<p>Outdoor 13oz vinyl.</p>"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        created = [services.upsert_product(product=p) for p in items]
    return {p.title: p for p in created}


def test_upsert_embeds_in_the_background_task(small_catalog):
    product = ProductKnowledge.objects.get(title="Vinyl Banners")
    assert len(product.embedding) == 384 * 4
    assert product.embedded_hash


def test_unchanged_product_is_not_re_embedded(small_catalog):
    assert services.embed_products() == 0


def test_hybrid_ranking_finds_high_gloss_cards(small_catalog):
    results = search_products(query="glossy business cards", mode=SearchMode.HYBRID, limit=3)
    assert results.mode == SearchMode.HYBRID
    assert results.products[0].title == "Premium Business Cards"


def test_semantic_search_understands_meaning(small_catalog):
    results = search_products(query="outdoor sign for a storefront", mode="semantic", limit=1)
    assert [p.title for p in results.products] == ["Vinyl Banners"]


def test_sticker_that_survives_rain_on_demo_catalog(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        catalog_sync.sync_catalog(source=pages_of(load_demo_catalog()))
    results = search_products(query="sticker that survives rain", limit=5)
    assert results.mode == SearchMode.HYBRID
    assert results.products[0].title == "Die-Cut Vinyl Stickers"


def test_semantic_search_sees_products_changed_after_the_matrix_was_cached(
    small_catalog, django_capture_on_commit_callbacks
):
    query = "waterproof outdoor stickers for cars"
    assert search_products(query=query, mode="semantic", limit=1).products[0].title != (
        "Bumper Stickers"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.upsert_product(
            product=make_product(
                title="Bumper Stickers",
                description_html="<p>Weatherproof vinyl stickers for car bumpers.</p>",
            )
        )
    results = search_products(query=query, mode="semantic", limit=1)
    assert [p.title for p in results.products] == ["Bumper Stickers"]
