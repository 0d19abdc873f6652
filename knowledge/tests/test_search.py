"""Lexical search on whichever database the pass runs on (SQLite FTS5 or PostgreSQL FTS)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import ApplicationError
from knowledge import services
from knowledge.selectors import SearchMode, search_products
from knowledge.tests.factories import make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    items = [
        make_product(
            title="Classic Business Cards",
            description_html="<p>16pt matte cardstock, uncoated feel.</p>",
            tags=["business cards", "matte"],
        ),
        make_product(
            title="Vinyl Banners",
            description_html="<p>Outdoor 13oz vinyl with grommets. Sizes 2x4 ft to 4x10 ft.</p>",
        ),
        make_product(
            title="Tri-Fold Brochures", description_html="<p>Folded on 100lb gloss text.</p>"
        ),
    ]
    return {p.title: services.upsert_product(product=p) for p in items}


def titles(results):
    return [p.title for p in results.products]


def test_lexical_search_uses_the_vendor_index(catalog):
    results = search_products(query="vinyl banner", mode="lexical")
    assert titles(results) == ["Vinyl Banners"]
    assert results.mode == SearchMode.LEXICAL


def test_lexical_search_matches_description_and_stems(catalog):
    assert titles(search_products(query="folding brochure", mode="lexical"))[0] == (
        "Tri-Fold Brochures"
    )
    assert titles(search_products(query="grommets", mode="lexical")) == ["Vinyl Banners"]


def test_title_matches_rank_above_body_matches(catalog):
    services.upsert_product(
        product=make_product(title="Grommet Kit", description_html="<p>For hanging a banner.</p>")
    )
    found = titles(search_products(query="banner", mode="lexical"))
    assert found == ["Vinyl Banners", "Grommet Kit"]


def test_typo_in_product_name_still_finds_it(catalog):
    assert titles(search_products(query="bussiness", mode="lexical")) == ["Classic Business Cards"]


def test_search_syntax_in_the_query_is_treated_as_text(catalog):
    assert search_products(query='"vinyl" OR * NEAR(', mode="lexical").products == [
        catalog["Vinyl Banners"]
    ]
    assert search_products(query="  ", mode="lexical").products == []


def test_hybrid_without_ml_falls_back_to_lexical(catalog):
    results = search_products(query="vinyl", mode="hybrid")
    assert results.mode == SearchMode.LEXICAL
    assert results.is_fallback
    assert not results.is_semantic_available
    assert titles(results) == ["Vinyl Banners"]


def test_semantic_without_ml_is_refused(catalog):
    with pytest.raises(ApplicationError) as exc:
        search_products(query="vinyl", mode="semantic")
    assert exc.value.code == "semantic_unavailable"


@pytest.mark.postgres
def test_postgres_searches_the_persisted_weighted_vector_through_its_gin_index(catalog):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'knowledge_search_vector_gin'"
        )
        assert "gin (search_vector)" in cursor.fetchone()[0]
        cursor.execute(
            "SELECT search_vector::text FROM knowledge_productknowledge WHERE id = %s",
            [catalog["Classic Business Cards"].pk],
        )
        vector = cursor.fetchone()[0]
    assert "'classic':1A" in vector  # title words weigh A, tags B, body C
    assert "'matt':" in vector and "B" in vector.split("'matt':")[1].split(" ")[0]
    assert "'16pt':" in vector
    with CaptureQueriesContext(connection) as queries:
        search_products(query="classic cards", mode="lexical")
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "search_vector" in sql and "to_tsvector" not in sql


def test_a_rare_word_outweighs_words_every_product_shares():
    """bm25's idf, on both databases: "business" and "cards" are in every card product, "gloss"
    in one, so that one leads clearly rather than by a hair (PostgreSQL's ts_rank has no idf of
    its own; knowledge.ranking weighs each word by it)."""
    for title, finish in [("Classic", "matte"), ("Premium", "high-gloss"), ("Linen", "linen")]:
        services.upsert_product(
            product=make_product(
                title=f"{title} Business Cards",
                description_html=f"<p>Business cards on 16pt {finish} card stock.</p>",
            )
        )
    services.upsert_product(product=make_product(title="Vinyl Banners"))
    results = search_products(query="glossy business cards", mode="lexical")
    assert titles(results)[0] == "Premium Business Cards"
    others = [p for p in results.products if p.title != "Premium Business Cards"]
    assert others and all(results.scores[p.pk] < 0.5 for p in others)


def test_a_question_of_common_words_still_finds_products():
    for title in ("Classic Business Cards", "Premium Business Cards"):
        services.upsert_product(product=make_product(title=title))
    results = search_products(query="business cards", mode="lexical")
    assert set(titles(results)) == {"Classic Business Cards", "Premium Business Cards"}


@pytest.mark.postgres
def test_postgres_stems_a_repeated_word_once(catalog):
    search_products(query="matte business cards", mode="lexical")
    with CaptureQueriesContext(connection) as queries:
        again = search_products(query="matte business cards", mode="lexical")
    assert titles(again)[0] == "Classic Business Cards"
    assert not [q for q in queries.captured_queries if "ts_lexize" in q["sql"]]


def test_sqlite_fts_table_follows_writes(catalog):
    if connection.vendor != "sqlite":
        pytest.skip("the FTS5 table exists only on SQLite")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM knowledge_fts")
        assert cursor.fetchone()[0] == 3
    services.remove_product(shopify_id=catalog["Vinyl Banners"].shopify_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM knowledge_fts WHERE knowledge_fts MATCH 'vinyl'")
        assert cursor.fetchone()[0] == 0


def test_question_words_do_not_drown_the_product_words(catalog):
    kit = services.upsert_product(
        product=make_product(title="Do-It-Yourself Kits", description_html="<p>What you need.</p>")
    )
    results = search_products(query="what sizes does the vinyl banner come in", mode="lexical")
    assert titles(results)[0] == "Vinyl Banners"
    # The kit matches only the factory's "Size 1" option, like every product; "what" adds nothing.
    assert results.scores[kit.pk] < 0.5 * results.scores[catalog["Vinyl Banners"].pk]


def test_only_active_products_unless_asked(catalog):
    for status in ("draft", "archived"):
        services.upsert_product(
            product=make_product(title=f"{status.title()} Vinyl Banners", status=status)
        )
    assert titles(search_products(query="vinyl banners", mode="lexical")) == ["Vinyl Banners"]
    everything = search_products(
        query="vinyl banners", mode="lexical", statuses=("active", "draft", "archived")
    )
    assert set(titles(everything)) == {
        "Vinyl Banners",
        "Draft Vinyl Banners",
        "Archived Vinyl Banners",
    }


def test_customer_chatter_is_cleaned_before_matching(catalog):
    found = search_products(
        query="Hi there! re order #4512, need 250 business cards by friday, thanks", mode="lexical"
    )
    assert titles(found) == ["Classic Business Cards"]


def test_lexical_search_is_a_fixed_number_of_queries(catalog, django_assert_max_num_queries):
    search_products(query="vinyl banner", mode="lexical")  # builds the typo vocabulary once
    with django_assert_max_num_queries(5):
        search_products(query="vinyl banner", mode="lexical")
