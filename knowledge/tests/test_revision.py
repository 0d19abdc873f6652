"""The search's in-memory indexes follow every write through one revision row (knowledge.revision):
whichever path wrote (services, admin saves, deletes, bulk syncs), the next search sees it."""

import pytest

from accounts.tests.factories import UserFactory
from knowledge import revision, services
from knowledge.models import ProductKnowledge
from knowledge.selectors import search_products
from knowledge.tests.factories import make_product

pytestmark = pytest.mark.django_db


def titles(query: str) -> list[str]:
    return [p.title for p in search_products(query=query, mode="lexical").products]


def test_every_write_the_search_depends_on_moves_the_revision():
    seen = [revision.current()]

    def moved(*, catalog: bool, examples: bool) -> None:
        before, now = seen[-1], revision.current()
        assert (now[0] > before[0], now[1] > before[1]) == (catalog, examples)
        seen.append(now)

    product = services.upsert_product(product=make_product(title="Kraft Hang Tags"))
    moved(catalog=True, examples=False)
    services.upsert_products(products=[make_product(title="Linen Letterheads")])
    moved(catalog=True, examples=False)
    note = services.add_product_note(product=product, author=UserFactory(), body="Cotton string.")
    moved(catalog=True, examples=False)
    services.record_suggestion_use(
        product=product, question="tags for jam jars", ticket=None, user=UserFactory()
    )
    moved(catalog=False, examples=True)
    services.delete_product_note(note=note, actor=UserFactory(is_superuser=True))
    moved(catalog=True, examples=False)
    ProductKnowledge.objects.filter(pk=product.pk).delete()  # cascades to its suggestion uses
    moved(catalog=True, examples=True)


def test_a_status_changed_outside_the_services_is_seen_by_the_next_search():
    product = services.upsert_product(product=make_product(title="Glossy Postcards"))
    assert titles("postcards") == ["Glossy Postcards"]
    product.status = "archived"
    product.save()  # as Django admin does
    assert titles("postcards") == []


def test_a_deleted_product_leaves_the_vocabulary_and_the_results():
    kept = services.upsert_product(product=make_product(title="Vinyl Banners"))
    gone = services.upsert_product(product=make_product(title="Magnetic Signs"))
    assert titles("magnetic") == ["Magnetic Signs"]
    services.remove_product(shopify_id=gone.shopify_id)
    assert titles("magnetic") == []
    assert titles("banners") == [kept.title]


def test_a_search_reads_the_revision_not_an_aggregate(django_assert_max_num_queries):
    services.upsert_product(product=make_product(title="Classic Business Cards"))
    titles("business cards")  # builds the vocabulary and the examples once
    with django_assert_max_num_queries(4) as captured:
        titles("business cards")
    sql = " ".join(query["sql"].upper() for query in captured.captured_queries)
    assert "COUNT(" not in sql and "MAX(" not in sql
