"""Reads for product knowledge: one search entry point over lexical, semantic and hybrid modes."""

import difflib
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db import connection
from django.db.models import Count, F, Max, Prefetch, QuerySet

from core.errors import ApplicationError, NotFound
from knowledge import embeddings
from knowledge.models import ProductKnowledge, ProductNote

RRF_K = 60  # the usual reciprocal-rank-fusion constant: damps the weight of the very top ranks
CANDIDATES = 50  # per ranker, before fusion
FUZZY_CUTOFF = 0.8
_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)


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


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD_RE.findall(text)]


# Question words that carry no product meaning; PostgreSQL's english config drops its own list.
_STOPWORD_TEXT = (
    "a an and are as at be but by can come comes could do does for from have how i in is it me "
    "my of on or our please so that the their them they this to us we what when where which "
    "who will with would you your"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _query_terms(words: list[str]) -> list[str]:
    """Query words without stopwords, plus adjective stems the stemmers keep apart
    ("glossy" -> "gloss")."""
    terms = []
    for word in [w for w in words if w not in STOPWORDS] or words:
        terms.append(word)
        if len(word) > 4 and word.endswith("y"):
            terms.append(word[:-1])
    return list(dict.fromkeys(terms))


def _fts5_ids(words: list[str], limit: int) -> list[int]:
    # Each word quoted (no FTS5 syntax from users) and prefix-matched, OR-ed, ranked by bm25
    # with titles weighted over body text.
    match = " OR ".join('"{}"*'.format(w.replace('"', "")) for w in _query_terms(words))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM knowledge_fts WHERE knowledge_fts MATCH %s "
            "ORDER BY bm25(knowledge_fts, 3.0, 1.0) LIMIT %s",
            [match, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def _fuzzy_title_ids(words: list[str], limit: int) -> list[int]:
    """Typo tolerance on SQLite: query words close to a word of a product title (difflib)."""
    scored = []
    for pk, title in ProductKnowledge.objects.values_list("pk", "title"):
        title_words = _words(title)
        score = 0.0
        for word in words:
            if len(word) < 4:
                continue
            best = max(
                (difflib.SequenceMatcher(None, word, t).ratio() for t in title_words), default=0
            )
            if best >= FUZZY_CUTOFF:
                score += best
        if score:
            scored.append((-score, pk))
    return [pk for _, pk in sorted(scored)[:limit]]


def _postgres_ids(query: str, words: list[str], limit: int) -> list[int]:
    from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

    vector = SearchVector("title", weight="A", config="english") + SearchVector(
        "search_text", weight="B", config="english"
    )
    search_query = None
    for word in _query_terms(words):
        term = SearchQuery(word, config="english")
        search_query = term if search_query is None else search_query | term
    ids = list(
        # Filtering on the document (`@@`) lets PostgreSQL use the GIN expression index.
        ProductKnowledge.objects.annotate(document=vector)
        .filter(document=search_query)
        .annotate(rank=SearchRank(F("document"), search_query))
        .order_by("-rank", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if len(ids) < limit and _has_trigram():
        from django.contrib.postgres.search import TrigramWordSimilarity

        similar = (
            ProductKnowledge.objects.annotate(similarity=TrigramWordSimilarity(query, "title"))
            .filter(similarity__gte=0.4)
            .exclude(pk__in=ids)
            .order_by("-similarity", "pk")
            .values_list("pk", flat=True)[: limit - len(ids)]
        )
        ids.extend(similar)
    return ids


def _has_trigram() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def _lexical_ids(query: str, limit: int) -> list[int]:
    words = _words(query)
    if not words:
        return []
    if connection.vendor == "postgresql":
        return _postgres_ids(query, words, limit)
    ids = _fts5_ids(words, limit)
    if len(ids) < limit:
        ids += [pk for pk in _fuzzy_title_ids(words, limit) if pk not in ids][: limit - len(ids)]
    return ids


@dataclass(frozen=True)
class EmbeddingIndex:
    version: tuple
    product_ids: list[int]
    matrix: Any


_embedding_index: EmbeddingIndex | None = None


def reset_embedding_index() -> None:
    """Forget this process's cached embedding matrix (tests switch databases under it)."""
    global _embedding_index
    _embedding_index = None


def _get_embedding_index() -> EmbeddingIndex | None:
    """Every product embedding as one matrix, reloaded only when the embeddings change.

    Reading all blobs per query cost 190-330 ms at 10k products (bench finding); checking the
    version is one aggregate. Re-embedding bumps `updated_at`, deletes change the count.
    """
    global _embedding_index
    embedded = ProductKnowledge.objects.filter(embedding__isnull=False).exclude(embedded_hash="")
    version = tuple(
        embedded.aggregate(count=Count("pk"), latest=Max("updated_at"), top=Max("pk")).values()
    )
    index = _embedding_index
    if index is None or index.version != version:
        rows = list(embedded.values_list("pk", "embedding"))
        if not rows:
            return None
        index = EmbeddingIndex(
            version=version,
            product_ids=[pk for pk, _ in rows],
            matrix=embeddings.from_blobs([blob for _, blob in rows]),
        )
        _embedding_index = index
    return index


def _semantic_ranking(query: str, limit: int) -> list[tuple[int, float]]:
    import numpy as np

    index = _get_embedding_index()
    if index is None:
        return []
    query_vector = embeddings.encode([query])[0]
    # Both sides are unit length, so the dot product is the cosine similarity.
    similarities = index.matrix @ query_vector
    top = np.argsort(-similarities)[:limit]
    return [(index.product_ids[i], float(similarities[i])) for i in top]


def _fuse(rankings: list[list[int]]) -> dict[int, float]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, pk in enumerate(ranking, start=1):
            scores[pk] = scores.get(pk, 0.0) + 1.0 / (RRF_K + rank)
    return scores


def search_products(
    *, query: str, mode: SearchMode | str = SearchMode.HYBRID, limit: int = 10
) -> SearchResults:
    """Products matching `query`, best first.

    Without the ML extra, `semantic` is refused (400, code `semantic_unavailable`) and `hybrid`
    falls back to lexical; the result says which mode actually ran.
    """
    requested = SearchMode(mode)
    is_available = embeddings.is_available()
    if requested == SearchMode.SEMANTIC and not is_available:
        raise ApplicationError(
            "Semantic search needs the ML extra (requirements-ml.txt); use mode=lexical.",
            code="semantic_unavailable",
        )
    effective = requested if is_available else SearchMode.LEXICAL
    query = query.strip()
    scores: dict[int, float] = {}
    if query:
        if effective == SearchMode.LEXICAL:
            ids = _lexical_ids(query, limit)
            scores = {pk: 1.0 / (RRF_K + rank) for rank, pk in enumerate(ids, start=1)}
        elif effective == SearchMode.SEMANTIC:
            scores = dict(_semantic_ranking(query, limit))
        else:
            semantic = [pk for pk, _ in _semantic_ranking(query, CANDIDATES)]
            scores = _fuse([_lexical_ids(query, CANDIDATES), semantic])
    ranked = sorted(scores, key=lambda pk: (-scores[pk], pk))[:limit]
    by_id = list_products().in_bulk(ranked)
    return SearchResults(
        products=[by_id[pk] for pk in ranked if pk in by_id],
        requested_mode=requested,
        mode=effective,
        is_semantic_available=is_available,
        scores={pk: scores[pk] for pk in ranked},
    )


def list_recent_products(*, limit: int = 24) -> QuerySet[ProductKnowledge]:
    return (
        list_products()
        .filter(status="active")
        .order_by(F("shopify_updated_at").desc(nulls_last=True), "title")[:limit]
    )
