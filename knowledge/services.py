"""Writes for product knowledge: catalog upserts and deletes, full sync, staff notes, embeddings.

Every write keeps the lexical index in step: the `search_text` column, and the weighted
`search_vector` column on PostgreSQL or the `knowledge_fts` FTS5 table on SQLite.
"""

import hashlib
import html
import json
import logging
import re
from dataclasses import dataclass
from functools import partial

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from analytics.services import record_event
from core.errors import ApplicationError
from integrations.shopify.types import ShopifyProduct
from knowledge import embeddings, revision
from knowledge.documents import ProductDocument, build_document
from knowledge.models import ProductKnowledge, ProductNote, SuggestionUse
from knowledge.query import clean_query
from tickets.models import Ticket

logger = logging.getLogger(__name__)


_TAG_RE = re.compile(r"<[^>]+>")
_BLOCK_RE = re.compile(r"</?(p|br|li|ul|ol|div|h[1-6]|tr|table)\b[^>]*>", re.IGNORECASE)
_SPACE_RE = re.compile(r"[ \t\r\f\v]+")


def html_to_text(value: str) -> str:
    """Shopify `body_html` as plain text: block tags become line breaks, entities decoded."""
    text = _BLOCK_RE.sub("\n", value or "")
    text = html.unescape(_TAG_RE.sub("", text))
    lines = (_SPACE_RE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _product_fields(product: ShopifyProduct) -> dict:
    return {
        "title": product.title,
        "handle": product.handle,
        "product_type": product.product_type,
        "vendor": product.vendor,
        "tags": list(product.tags),
        "description_text": html_to_text(product.description_html),
        "variants": [
            {
                "id": v.id,
                "title": v.title,
                "sku": v.sku,
                "price": v.price,
                "options": dict(v.options),
            }
            for v in product.variants
        ],
        "images": [{"url": i.url, "alt": i.alt} for i in product.images],
        "status": product.status,
    }


def _content_hash(fields: dict) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _reindex(product: ProductKnowledge) -> None:
    notes = list(product.notes.values_list("body", flat=True)) if product.pk else []
    document = build_document(product=product, notes=notes)
    product.search_text = document.search_text
    ProductKnowledge.objects.filter(pk=product.pk).update(search_text=product.search_text)
    _reindex_lexical([(product.pk, document)])


# Terms are weighted title A > keywords (type, tags, vendor) B > body C; one statement per batch.
_PG_SEARCH_VECTOR = (
    "UPDATE knowledge_productknowledge AS p SET search_vector = "
    "setweight(to_tsvector('english'::regconfig, v.title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, v.keywords), 'B') || "
    "setweight(to_tsvector('english'::regconfig, v.body), 'C') "
    "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[]) AS v(id, title, keywords, body) "
    "WHERE p.id = v.id"
)


def _reindex_lexical(documents: list[tuple[int, ProductDocument]]) -> None:
    """The vendor's keyword index follows the products' documents: the weighted `search_vector`
    column on PostgreSQL, the three-column FTS5 table on SQLite."""
    if not documents:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                _PG_SEARCH_VECTOR,
                [
                    [pk for pk, _ in documents],
                    [d.title for _, d in documents],
                    [d.keywords for _, d in documents],
                    [d.body for _, d in documents],
                ],
            )
        elif connection.vendor == "sqlite":
            cursor.executemany(
                "DELETE FROM knowledge_fts WHERE rowid = %s", [[pk] for pk, _ in documents]
            )
            cursor.executemany(
                "INSERT INTO knowledge_fts(rowid, title, keywords, body) VALUES (%s, %s, %s, %s)",
                [[pk, d.title, d.keywords, d.body] for pk, d in documents],
            )


def _enqueue_embedding(product_ids: list[int]) -> None:
    if product_ids and embeddings.is_available():
        from knowledge.tasks import embed_products_task

        transaction.on_commit(partial(embed_products_task.enqueue, product_ids=product_ids))


@dataclass(frozen=True)
class UpsertOutcome:
    product: ProductKnowledge
    is_created: bool
    is_changed: bool


def _upsert(product: ShopifyProduct) -> UpsertOutcome:
    fields = _product_fields(product)
    content_hash = _content_hash(fields)
    # FOR UPDATE: a webhook and a full sync may write the same product at once.
    existing = ProductKnowledge.objects.select_for_update().filter(shopify_id=product.id).first()
    if existing is not None and existing.content_hash == content_hash:
        return UpsertOutcome(product=existing, is_created=False, is_changed=False)
    item = existing or ProductKnowledge(shopify_id=product.id)
    for name, value in fields.items():
        setattr(item, name, value)
    item.shopify_updated_at = product.updated_at
    item.content_hash = content_hash
    item.full_clean(exclude=["handle"])
    item.save()
    _reindex(item)
    return UpsertOutcome(product=item, is_created=existing is None, is_changed=True)


@transaction.atomic
def upsert_product(*, product: ShopifyProduct) -> ProductKnowledge:
    """Create or refresh one product. Unchanged content (same hash) writes and embeds nothing."""
    outcome = _upsert(product)
    if outcome.is_changed:
        _enqueue_embedding([outcome.product.pk])
    return outcome.product


@transaction.atomic
def remove_product(*, shopify_id: int) -> bool:
    """Forget a product deleted in Shopify. Returns whether it was known."""
    pk = ProductKnowledge.objects.filter(shopify_id=shopify_id).values_list("pk", flat=True).first()
    if pk is None:
        return False
    _delete_products([pk])
    return True


def _delete_products(pks: list[int]) -> None:
    ProductKnowledge.objects.filter(pk__in=pks).delete()
    if connection.vendor == "sqlite" and pks:
        with connection.cursor() as cursor:
            cursor.executemany("DELETE FROM knowledge_fts WHERE rowid = %s", [[pk] for pk in pks])


@transaction.atomic
def import_products(*, products: list[ShopifyProduct]) -> int:
    """Upsert a known list of products (the demo catalog) without deleting others.

    Returns how many were created or changed; one batched embedding task covers every product
    whose embedding is missing or stale, so an install of the ML extra later catches up.
    """
    changed = sum(_upsert(product).is_changed for product in products)
    if embeddings.is_available():
        from knowledge.tasks import embed_products_task

        transaction.on_commit(partial(embed_products_task.enqueue, product_ids=None))
    return changed


@dataclass(frozen=True)
class BatchOutcome:
    created: int
    updated: int


PRODUCT_FIELDS = (
    "title",
    "handle",
    "product_type",
    "vendor",
    "tags",
    "description_text",
    "variants",
    "images",
    "status",
    "shopify_updated_at",
    "content_hash",
    "search_text",
    "updated_at",
)


@transaction.atomic
def upsert_products(*, products: list[ShopifyProduct]) -> BatchOutcome:
    """Upsert a batch from a catalog sync with a handful of queries (not several per product)
    and one embedding task for the batch. Unchanged products (same hash) are not written."""
    # FOR UPDATE: a products webhook may write one of these products meanwhile.
    existing = {
        item.shopify_id: item
        for item in ProductKnowledge.objects.select_for_update().filter(
            shopify_id__in=[p.id for p in products]
        )
    }
    notes: dict[int, list[str]] = {}
    for product_id, body in ProductNote.objects.filter(product__in=existing.values()).values_list(
        "product_id", "body"
    ):
        notes.setdefault(product_id, []).append(body)
    created, changed, now = {}, [], timezone.now()
    documents: dict[int, ProductDocument] = {}
    for product in products:
        fields = _product_fields(product)
        content_hash = _content_hash(fields)
        item = existing.get(product.id)
        if item is not None and item.content_hash == content_hash:
            continue
        item = item or created.get(product.id) or ProductKnowledge(shopify_id=product.id)
        for name, value in fields.items():
            setattr(item, name, value)
        item.shopify_updated_at = product.updated_at
        item.content_hash = content_hash
        item.updated_at = now
        # The shopify_id lookup above (under the lock) is the uniqueness check.
        item.full_clean(exclude=["handle"], validate_unique=False)
        documents[product.id] = build_document(product=item, notes=notes.get(item.pk, []))
        item.search_text = documents[product.id].search_text
        if item.pk is None:
            created[product.id] = item
        else:
            changed.append(item)
    ProductKnowledge.objects.bulk_create(created.values())
    ProductKnowledge.objects.bulk_update(changed, PRODUCT_FIELDS)
    revision.bump(catalog=True)  # bulk writes send no signals
    saved = [*created.values(), *changed]
    _reindex_lexical([(item.pk, documents[item.shopify_id]) for item in saved])
    _enqueue_embedding([item.pk for item in saved])
    return BatchOutcome(created=len(created), updated=len(changed))


@transaction.atomic
def remove_products_except(*, shopify_ids: set[int]) -> int:
    """After a complete catalog pass: forget every product Shopify no longer has."""
    gone = list(
        ProductKnowledge.objects.exclude(shopify_id__in=shopify_ids).values_list("pk", flat=True)
    )
    _delete_products(gone)
    return len(gone)


@transaction.atomic
def add_product_note(*, product: ProductKnowledge, author: User, body: str) -> ProductNote:
    body = body.strip()
    if not body:
        raise ApplicationError("A note needs some text.", code="empty_note")
    note = ProductNote(product=product, author=author, body=body)
    note.full_clean()
    note.save()
    _reindex(product)
    _enqueue_embedding([product.pk])
    record_event(name="knowledge.note_added", actor=author, subject=product)
    return note


@transaction.atomic
def delete_product_note(*, note: ProductNote, actor: User) -> None:
    product = note.product
    note.delete()
    _reindex(product)
    _enqueue_embedding([product.pk])
    record_event(name="knowledge.note_deleted", actor=actor, subject=product)


def _document_hash(passages: list[str] | tuple[str, ...]) -> str:
    return hashlib.sha256("\n\n".join(passages).encode()).hexdigest()


def embed_products(*, product_ids: list[int] | None = None) -> int:
    """Embed the search passages of products whose text changed since their last embedding,
    then any recorded suggestion uses not embedded yet. `product_ids=None` means every product.
    Returns how many products were embedded."""
    queryset = ProductKnowledge.objects.prefetch_related("notes")
    if product_ids is not None:
        queryset = queryset.filter(pk__in=product_ids)
    stale = []
    for product in queryset.order_by("pk"):
        notes = [note.body for note in product.notes.all()]
        passages = build_document(product=product, notes=notes).passages
        if product.embedded_hash != _document_hash(passages):
            stale.append((product, passages))
    for start in range(0, len(stale), embeddings.BATCH_SIZE):
        batch = stale[start : start + embeddings.BATCH_SIZE]
        vectors = embeddings.encode([text for _, passages in batch for text in passages])
        offset = 0
        for product, passages in batch:
            block = vectors[offset : offset + len(passages)]
            offset += len(passages)
            # Guard on the text we embedded: a concurrent edit keeps its own, newer embedding due.
            ProductKnowledge.objects.filter(pk=product.pk, search_text=product.search_text).update(
                embedding=embeddings.to_blob(block),
                embedded_hash=_document_hash(passages),
                # update() skips auto_now; the search's embedding cache keys on it.
                updated_at=timezone.now(),
            )
    if stale:
        revision.bump(catalog=True)  # update() sends no signals
    embed_suggestion_uses()
    return len(stale)


def embed_suggestion_uses() -> int:
    """Embed the cleaned question of every recorded suggestion use that has no vector yet."""
    pending = list(SuggestionUse.objects.filter(embedding__isnull=True).only("pk", "question"))
    if not pending:
        return 0
    vectors = embeddings.encode([clean_query(use.question).text for use in pending])
    for use, vector in zip(pending, vectors, strict=True):
        SuggestionUse.objects.filter(pk=use.pk).update(embedding=embeddings.to_blob(vector))
    revision.bump(examples=True)  # update() sends no signals
    return len(pending)


@transaction.atomic
def record_suggestion_use(
    *, product: ProductKnowledge, question: str, ticket: Ticket | None, user: User
) -> SuggestionUse:
    """Remember that an agent answered `question` with `product` (once per ticket and product).

    The pair boosts the product for similar questions (knowledge.ranking) and is extra
    evaluation data (`manage.py search_quality --recorded`).
    """
    question = question.strip()
    if not question:
        raise ApplicationError("The ticket has no customer question.", code="empty_question")
    use, is_created = SuggestionUse.objects.get_or_create(
        ticket=ticket,
        product=product,
        defaults={"question": question[:2000], "user": user},
    )
    if is_created:
        if embeddings.is_available():
            from knowledge.tasks import embed_suggestion_uses_task

            transaction.on_commit(embed_suggestion_uses_task.enqueue)
        record_event(name="knowledge.suggestion_used", actor=user, subject=product)
    return use


@transaction.atomic
def forget_suggestion_questions(*, ticket_ids: list[int]) -> int:
    """Erasure (docs/privacy.md): a recorded question is a copy of the customer's message, so
    the pairs recorded on an erased customer's tickets go too. Returns how many were deleted."""
    deleted, _ = SuggestionUse.objects.filter(ticket_id__in=ticket_ids).delete()
    return deleted
