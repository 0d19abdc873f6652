import hashlib
import re

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from integrations.models import ShopifySyncLog, SyncStatus
from knowledge import embeddings, services
from knowledge.models import ProductKnowledge, ProductNote
from knowledge.tests.factories import make_product
from tickets.tests.factories import TicketFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    return [
        services.upsert_product(
            product=make_product(
                title="Die-Cut Vinyl Stickers",
                description_html="<p>Waterproof <b>vinyl</b>, survives rain.</p>",
                prices=("25.00", "80.00"),
            )
        ),
        services.upsert_product(product=make_product(title="Classic Business Cards")),
    ]


@pytest.fixture
def agent_client(client):
    client.force_login(UserFactory(role=Role.AGENT))
    return client


def test_search_page_shows_cards_and_lexical_notice(agent_client, catalog):
    response = agent_client.get("/knowledge/", {"q": "vinyl stickers"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Die-Cut Vinyl Stickers" in html
    assert "Classic Business Cards" not in html
    assert "$25.00 \u2013 $80.00" in html
    assert "Semantic search is off" in html
    assert "fell back from hybrid" in html


def test_search_page_semantic_without_ml_explains(agent_client, catalog):
    response = agent_client.get("/knowledge/", {"q": "vinyl", "mode": "semantic"})
    assert response.status_code == 200
    assert "needs the ML extra" in response.content.decode()


def test_agent_adds_and_deletes_a_note(agent_client, catalog):
    product = catalog[1]
    response = agent_client.post(
        f"/knowledge/products/{product.pk}/notes/", {"body": "Also on 300gsm matte"}
    )
    assert response.status_code == 302
    note = ProductNote.objects.get()
    assert "300gsm" in agent_client.get("/knowledge/", {"q": "300gsm"}).content.decode()
    agent_client.post(f"/knowledge/notes/{note.pk}/delete/")
    assert not ProductNote.objects.exists()


def test_viewer_cannot_add_notes(client, catalog):
    client.force_login(UserFactory(role=Role.VIEWER))
    response = client.post(f"/knowledge/products/{catalog[0].pk}/notes/", {"body": "x"})
    assert response.status_code == 403
    assert not ProductNote.objects.exists()


def test_suggestions_partial_lists_products_for_latest_customer_message(agent_client, catalog):
    ticket = TicketFactory(subject="Question")
    TicketMessageFactory(ticket=ticket, body="Old question about business cards")
    TicketMessageFactory(ticket=ticket, body="Do your vinyl stickers survive rain?")
    response = agent_client.get("/knowledge/suggestions/", {"ticket": ticket.reference})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Die-Cut Vinyl Stickers" in html
    assert "Classic Business Cards" not in html
    assert 'data-insert-from="kn-snippet-' in html
    assert "js/knowledge.js" in html
    assert "<script>" not in html
    assert "Drafted reply" not in html


def test_suggestions_for_unknown_ticket_is_404(agent_client):
    assert agent_client.get("/knowledge/suggestions/", {"ticket": "PD-999999"}).status_code == 404


def test_search_api_lexical(agent_client, catalog):
    response = agent_client.get("/api/knowledge/search/", {"q": "vinyl", "mode": "lexical"})
    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "lexical"
    assert [r["title"] for r in body["results"]] == ["Die-Cut Vinyl Stickers"]
    assert body["results"][0]["variants"][0]["price"] == "25.00"
    assert body["results"][0]["score"] > 0


def test_search_api_hybrid_falls_back_and_semantic_is_400(agent_client, catalog):
    body = agent_client.get("/api/knowledge/search/", {"q": "vinyl"}).json()
    assert (body["requested_mode"], body["mode"], body["is_fallback"]) == (
        "hybrid",
        "lexical",
        True,
    )
    response = agent_client.get("/api/knowledge/search/", {"q": "vinyl", "mode": "semantic"})
    assert response.status_code == 400
    assert response.json()["code"] == "semantic_unavailable"


def test_search_api_validates_input(agent_client):
    response = agent_client.get("/api/knowledge/search/", {"q": "", "mode": "fuzzy"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"q", "mode"}


def test_search_api_is_in_the_schema(agent_client):
    response = agent_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "/api/knowledge/search/" in response.content.decode()


def test_admin_action_queues_a_catalog_sync(
    client, fake_shopify, django_capture_on_commit_callbacks
):
    admin_user = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(admin_user)
    services.upsert_product(product=make_product(title="Gone from Shopify"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/knowledge/productknowledge/",
            {
                "action": "sync_catalog_now",
                "_selected_action": list(ProductKnowledge.objects.values_list("pk", flat=True)),
            },
        )
    assert response.status_code == 302
    log = ShopifySyncLog.objects.get()
    assert (log.status, log.triggered_by) == (SyncStatus.SUCCEEDED, admin_user)
    assert not ProductKnowledge.objects.filter(title="Gone from Shopify").exists()


def test_suggestions_say_semantic_search_is_warming_up(agent_client, catalog, monkeypatch):
    import numpy as np

    # The ML extra "installed" but no product embedded yet: keyword matches, and the count.
    monkeypatch.setattr("knowledge.embeddings.is_available", lambda: True)
    monkeypatch.setattr("knowledge.embeddings.encode_query", lambda text: np.zeros(384))
    ticket = TicketFactory(subject="Question")
    TicketMessageFactory(ticket=ticket, body="Do your vinyl stickers survive rain?")
    html = agent_client.get("/knowledge/suggestions/", {"ticket": ticket.reference}).content
    assert b"Die-Cut Vinyl Stickers" in html
    assert b"Semantic search warming up (0/2)" in html
    assert b'hx-trigger="load delay:10s"' in html


def test_suggestions_never_offer_archived_products(agent_client, catalog):
    services.upsert_product(product=make_product(title="Old Vinyl Stickers", status="archived"))
    ticket = TicketFactory(subject="Question")
    TicketMessageFactory(ticket=ticket, body="vinyl stickers please")
    html = agent_client.get("/knowledge/suggestions/", {"ticket": ticket.reference}).content
    assert b"Die-Cut Vinyl Stickers" in html
    assert b"Old Vinyl Stickers" not in html
    assert b'hx-post="/knowledge/suggestions/used/"' in html


def _bag_of_words(texts):
    """A stand-in sentence model: texts sharing words point the same way."""
    import numpy as np

    vectors = np.zeros((len(texts), 384), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 384] += 1.0
        vectors[row] /= np.linalg.norm(vectors[row]) or 1.0
    return vectors


@pytest.mark.parametrize("semantic", [False, True], ids=["keyword", "hybrid"])
def test_an_archived_product_is_never_suggested_even_as_the_best_match(
    agent_client, catalog, monkeypatch, django_capture_on_commit_callbacks, semantic
):
    """Issue 23 defect 11: the question names the archived product word for word."""
    if semantic:
        pytest.importorskip("numpy")  # the ML extra's; no model is loaded
        monkeypatch.setattr(embeddings, "is_available", lambda: True)
        monkeypatch.setattr(embeddings, "encode", _bag_of_words)
        embeddings.clear_query_cache()
    with django_capture_on_commit_callbacks(execute=True):
        services.upsert_product(
            product=make_product(
                title="Economy Business Cards 14pt Uncoated",
                description_html="<p>Economy business cards on 14pt uncoated stock.</p>",
                status="archived",
            )
        )
    if semantic:
        services.embed_products()  # the catalog fixture's products too
    ticket = TicketFactory(subject="Economy business cards")
    TicketMessageFactory(
        ticket=ticket, body="Do you still do the Economy Business Cards 14pt Uncoated?"
    )
    html = agent_client.get("/knowledge/suggestions/", {"ticket": ticket.reference}).content
    assert b"Classic Business Cards" in html
    assert b"Economy Business Cards" not in html
    assert (b"hybrid search" in html) is semantic
