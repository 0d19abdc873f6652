"""Semantic and hybrid search with the real all-MiniLM-L6-v2 model (the ML extra)."""

import pytest

from accounts.tests.factories import UserFactory
from knowledge import catalog_sync, services
from knowledge.models import ProductKnowledge, SuggestionUse
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


def test_upsert_embeds_every_passage_in_the_background_task(small_catalog):
    product = ProductKnowledge.objects.get(title="Vinyl Banners")
    # Headline, description and variant options: three passages of 384 float32 each.
    assert len(product.embedding) == 3 * 384 * 4
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


def test_sticker_that_survives_rain_on_demo_stickers(django_capture_on_commit_callbacks):
    # The demo catalog's stickers and labels only: embedding all 150 products costs minutes.
    stickers = [p for p in load_demo_catalog() if p.product_type == "Stickers & Labels"]
    with django_capture_on_commit_callbacks(execute=True):
        catalog_sync.sync_catalog(source=pages_of(stickers))
    results = search_products(query="Hi! 300 stickers that survive rain by friday?", limit=5)
    assert results.mode == SearchMode.HYBRID
    assert results.products[0].title == "Die-Cut Vinyl Stickers"
    assert "UV DTF Cup Wraps" not in [p.title for p in results.products]  # a draft


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


def test_recorded_question_boosts_its_product_in_hybrid_search(
    small_catalog, django_capture_on_commit_callbacks
):
    question = "hi, do you have glossy business cards?"
    before = search_products(query="glossy business cards", limit=2)
    assert before.products[0].title == "Premium Business Cards"
    with django_capture_on_commit_callbacks(execute=True):
        use = services.record_suggestion_use(
            product=small_catalog["Classic Business Cards"],
            question=question,
            ticket=None,
            user=UserFactory(),
        )
    assert len(SuggestionUse.objects.get(pk=use.pk).embedding) == 384 * 4
    after = search_products(query="glossy business cards", limit=2)
    assert after.products[0].title == "Classic Business Cards"
