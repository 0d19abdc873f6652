"""Reads for product knowledge: one search entry point over lexical, semantic and hybrid modes."""

from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import F, Prefetch, QuerySet

from core.errors import ApplicationError, NotFound
from knowledge import embeddings, ranking
from knowledge.models import ProductKnowledge, ProductNote, ProductStatus, SuggestionUse
from knowledge.query import clean_query


class SearchMode(StrEnum):
    LEXICAL = "lexical"
    SEMANTIC = "semantic"
    HYBRID = "hybrid"


@dataclass(frozen=True)
class SearchResults:
    products: list[ProductKnowledge]
    requested_mode: SearchMode
    mode: SearchMode
    is_semantic_available: bool
    scores: dict[int, float] = field(default_factory=dict)

    @property
    def is_fallback(self) -> bool:
        return self.mode != self.requested_mode


def list_products() -> QuerySet[ProductKnowledge]:
    return ProductKnowledge.objects.prefetch_related(
        Prefetch("notes", queryset=ProductNote.objects.select_related("author"))
    )


def get_product(*, product_id: int) -> ProductKnowledge:
    product = list_products().filter(pk=product_id).first()
    if product is None:
        raise NotFound("No such product.", code="product_not_found")
    return product


def search_products(
    *,
    query: str,
    mode: SearchMode | str = SearchMode.HYBRID,
    limit: int = 10,
    statuses: tuple[str, ...] = ranking.ACTIVE_ONLY,
) -> SearchResults:
    """Products matching a customer's question, best first (ranking: knowledge.ranking).

    Without the ML extra, `semantic` is refused (400, code `semantic_unavailable`) and `hybrid`
    falls back to lexical; the result says which mode actually ran. Only products whose status is
    in `statuses` are returned: active ones unless the caller asks for drafts or archived too.
    """
    requested = SearchMode(mode)
    is_available = embeddings.is_available()
    if requested == SearchMode.SEMANTIC and not is_available:
        raise ApplicationError(
            "Semantic search needs the ML extra (requirements-ml.txt); use mode=lexical.",
            code="semantic_unavailable",
        )
    effective = requested if is_available else SearchMode.LEXICAL
    scores = ranking.rank(clean_query(query.strip()), mode=effective, statuses=statuses)
    ranked = sorted(scores, key=lambda pk: (-scores[pk], pk))[:limit]
    # The vectors and the tsvector are the bulk of a row and no result shows them.
    by_id = list_products().defer("embedding", "search_vector").in_bulk(ranked)
    return SearchResults(
        products=[by_id[pk] for pk in ranked if pk in by_id],
        requested_mode=requested,
        mode=effective,
        is_semantic_available=is_available,
        scores={pk: scores[pk] for pk in ranked},
    )


@dataclass(frozen=True)
class EmbeddingProgress:
    embedded: int
    total: int

    @property
    def is_warming_up(self) -> bool:
        return self.embedded < self.total


def get_embedding_progress() -> EmbeddingProgress:
    """How many active products semantic search already covers (the rest are being embedded)."""
    active = ProductKnowledge.objects.filter(status=ProductStatus.ACTIVE)
    return EmbeddingProgress(
        embedded=active.filter(embedding__isnull=False).exclude(embedded_hash="").count(),
        total=active.count(),
    )


def list_suggestion_uses() -> QuerySet[SuggestionUse]:
    return SuggestionUse.objects.select_related("product")


def list_recent_products(*, limit: int = 24) -> QuerySet[ProductKnowledge]:
    return (
        list_products()
        .filter(status="active")
        .order_by(F("shopify_updated_at").desc(nulls_last=True), "title")[:limit]
    )
