"""How products are ranked for a customer's question (docs/knowledge-search.md).

- Lexical: the weighted keyword index (FTS5 bm25 on SQLite, `ts_rank` over the persisted
  `search_vector` on PostgreSQL), with query words corrected against the catalog's own title and
  tag vocabulary for typos ("bussiness" -> "business").
- Semantic: every product is several embedded passages; its similarity is the best passage's
  cosine (max-sim), from a matrix kept in memory per process and reloaded when the catalog changes.
- Hybrid: semantic first; the keyword score, normalised to the best keyword hit, is added with a
  weight learned on the evaluation set (knowledge/eval), so exact product words and SKUs lift a
  product without letting keyword noise push the right one out.
- Learned: products agents inserted for similar past questions get a boost.
Only products whose status is in `statuses` (active by default) are ranked.
"""

import difflib
import json
import threading
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F

from knowledge import embeddings, revision
from knowledge.models import ProductKnowledge, ProductStatus, SuggestionUse
from knowledge.query import CleanQuery, keyword_terms, words

CANDIDATES = 50  # per ranker, before fusion
TYPO_CUTOFF = 0.84  # difflib ratio for a typo correction ("stikers" -> "stickers" is 0.93)
TYPO_MIN_LENGTH = 5
PREFIX_MIN_LENGTH = 4  # shorter words match whole (a prefix "ft*" would match everything)
LEARNED_MIN_SIMILARITY = 0.75  # cosine between the new and a recorded question
LEARNED_MIN_OVERLAP = 0.6  # Jaccard of keyword terms, when semantic search is unavailable
ACTIVE_ONLY = (ProductStatus.ACTIVE.value,)
BM25_WEIGHTS = (4.0, 2.0, 1.0)  # FTS5 columns: title, keywords (type, tags, vendor), body


@dataclass(frozen=True)
class Weights:
    """Hybrid score = max-sim cosine + lexical * normalised keyword score, then + learned *
    question likeness * the best score so far (an identical recorded question lifts its product
    to about the top; a merely similar one part of the way)."""

    lexical: float = 0.3
    learned: float = 1.0


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True)
class _Vocabulary:
    version: tuple
    known: frozenset[str]  # every word of every product document
    corrections: tuple[str, ...]  # title and keyword words: what a typo is corrected to


@dataclass(frozen=True)
class _SemanticIndex:
    version: tuple
    product_ids: Any  # np.ndarray (P,)
    statuses: Any  # np.ndarray (P,) of str
    passages: Any  # np.ndarray (N, DIMENSIONS), unit rows
    starts: Any  # np.ndarray (P,): first passage row of each product


@dataclass(frozen=True)
class _Examples:
    version: tuple
    product_ids: list[int]
    terms: list[frozenset[str]]
    vectors: Any  # np.ndarray (E, DIMENSIONS) or None without embeddings
    vector_product_ids: list[int]


_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def reset() -> None:
    """Forget this process's in-memory indexes (tests switch databases under them)."""
    with _cache_lock:
        _cache.clear()


def _cached(name: str, version: tuple, build):
    value = _cache.get(name)
    if value is None or value.version != version:
        value = build(version)
        with _cache_lock:
            _cache[name] = value
    return value


def _build_vocabulary(version: tuple) -> _Vocabulary:
    known: set[str] = set()
    corrections: set[str] = set()
    for title, product_type, tags, text in ProductKnowledge.objects.values_list(
        "title", "product_type", "tags", "search_text"
    ):
        known.update(words(text))
        corrections.update(words(" ".join([title, product_type, *tags])))
    return _Vocabulary(
        version=version,
        known=frozenset(known),
        corrections=tuple(sorted(w for w in corrections if len(w) >= TYPO_MIN_LENGTH - 1)),
    )


def corrected_terms(terms: tuple[str, ...], *, version: tuple) -> tuple[str, ...]:
    """The terms plus, for each unknown word, the closest catalog title or tag word."""
    vocabulary = _cached("vocabulary", version, _build_vocabulary)
    extra = []
    for term in terms:
        if len(term) < TYPO_MIN_LENGTH or term.isdigit() or term in vocabulary.known:
            continue
        extra += difflib.get_close_matches(term, vocabulary.corrections, n=1, cutoff=TYPO_CUTOFF)
    return tuple(dict.fromkeys(terms + tuple(extra)))


def _fts5_scores(terms: tuple[str, ...], statuses: tuple[str, ...], limit: int) -> dict:
    # Each word quoted (no FTS5 syntax from users), longer ones prefix-matched, OR-ed; bm25 weighs
    # titles over keywords (type, tags, options) over the body.
    match = " OR ".join(
        '"{}"{}'.format(t.replace('"', ""), "*" if len(t) >= PREFIX_MIN_LENGTH else "")
        for t in terms
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT knowledge_fts.rowid, -bm25(knowledge_fts, %s, %s, %s) AS score "
            # CROSS JOIN keeps the FTS match as the outer loop (SQLite's planner otherwise may
            # probe the index once per product).
            "FROM knowledge_fts CROSS JOIN knowledge_productknowledge p "
            "ON p.id = knowledge_fts.rowid "
            "WHERE knowledge_fts MATCH %s "
            "AND p.status IN (SELECT value FROM json_each(%s)) "
            "ORDER BY score DESC, knowledge_fts.rowid LIMIT %s",
            [*BM25_WEIGHTS, match, json.dumps(list(statuses)), limit],
        )
        return dict(cursor.fetchall())


def _postgres_scores(terms: tuple[str, ...], statuses: tuple[str, ...], limit: int) -> dict:
    from django.contrib.postgres.search import SearchQuery, SearchRank

    # Terms are [^\W_]+ words, so the raw tsquery syntax cannot be injected.
    raw = " | ".join(f"{t}:*" if len(t) >= PREFIX_MIN_LENGTH else t for t in terms)
    query = SearchQuery(raw, search_type="raw", config="english")
    return dict(
        ProductKnowledge.objects.filter(search_vector=query, status__in=statuses)
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "pk")
        .values_list("pk", "rank")[:limit]
    )


def lexical_scores(
    terms: tuple[str, ...], *, statuses: tuple[str, ...], version: tuple, limit: int
) -> dict[int, float]:
    """Keyword hits, each scored relative to the best one (1.0)."""
    if not terms:
        return {}
    terms = corrected_terms(terms, version=version)
    if connection.vendor == "postgresql":
        raw = _postgres_scores(terms, statuses, limit)
    else:
        raw = _fts5_scores(terms, statuses, limit)
    best = max(raw.values(), default=0.0)
    if best <= 0:
        return dict.fromkeys(raw, 1.0)
    return {pk: max(score, 0.0) / best for pk, score in raw.items()}


def _build_semantic_index(version: tuple) -> _SemanticIndex | None:
    import numpy as np

    rows = list(
        ProductKnowledge.objects.filter(embedding__isnull=False)
        .exclude(embedded_hash="")
        .order_by("pk")
        .values_list("pk", "status", "embedding")
    )
    if not rows:
        return _SemanticIndex(version, None, None, None, None)
    blocks = [embeddings.from_blob(blob) for _, _, blob in rows]
    sizes = np.array([len(block) for block in blocks])
    return _SemanticIndex(
        version=version,
        product_ids=np.array([pk for pk, _, _ in rows]),
        statuses=np.array([status for _, status, _ in rows]),
        passages=np.vstack(blocks),
        starts=np.concatenate([[0], np.cumsum(sizes)[:-1]]),
    )


def semantic_scores(
    query_vector,
    *,
    statuses: tuple[str, ...],
    version: tuple,
    limit: int,
    also: set[int] = frozenset(),
) -> dict[int, float]:
    """The best-passage cosine of the `limit` most similar products, and of the products in
    `also` (the keyword hits, so hybrid adds both scores for them)."""
    import numpy as np

    index = _cached("semantic", version, _build_semantic_index)
    if index.passages is None:
        return {}
    # Rows are unit length, so the dot product is the cosine; a product scores its best passage.
    similarities = np.maximum.reduceat(index.passages @ query_vector, index.starts)
    similarities[~np.isin(index.statuses, statuses)] = -np.inf
    chosen = np.argsort(-similarities)[:limit]
    if also:
        chosen = np.union1d(chosen, np.flatnonzero(np.isin(index.product_ids, list(also))))
    return {
        int(index.product_ids[i]): float(similarities[i])
        for i in chosen
        if np.isfinite(similarities[i])
    }


def _build_examples(version: tuple) -> _Examples:
    rows = list(SuggestionUse.objects.values_list("product_id", "question", "embedding"))
    vectors, vector_ids = None, []
    embedded = [(pid, blob) for pid, _, blob in rows if blob is not None]
    if embedded and embeddings.is_available():
        import numpy as np

        vectors = np.vstack([embeddings.from_blob(blob) for _, blob in embedded])
        vector_ids = [pid for pid, _ in embedded]
    return _Examples(
        version=version,
        product_ids=[pid for pid, _, _ in rows],
        terms=[frozenset(keyword_terms(question)) for _, question, _ in rows],
        vectors=vectors,
        vector_product_ids=vector_ids,
    )


def learned_boosts(query: CleanQuery, query_vector=None, *, version: tuple) -> dict[int, float]:
    """Products agents inserted for questions like this one, with how alike the questions are
    (cosine with the ML extra, keyword-term overlap without)."""
    examples = _cached("examples", version, _build_examples)
    boosts: dict[int, float] = {}
    if query_vector is not None and examples.vectors is not None:
        for pid, similarity in zip(
            examples.vector_product_ids, examples.vectors @ query_vector, strict=True
        ):
            if similarity >= LEARNED_MIN_SIMILARITY:
                boosts[pid] = max(boosts.get(pid, 0.0), float(similarity))
        return boosts
    terms = frozenset(query.terms)
    for pid, example_terms in zip(examples.product_ids, examples.terms, strict=True):
        union = terms | example_terms
        overlap = len(terms & example_terms) / len(union) if union else 0.0
        if overlap >= LEARNED_MIN_OVERLAP:
            boosts[pid] = max(boosts.get(pid, 0.0), overlap)
    return boosts


def rank(
    query: CleanQuery,
    *,
    mode: str,
    statuses: tuple[str, ...] = ACTIVE_ONLY,
    weights: Weights = DEFAULT_WEIGHTS,
) -> dict[int, float]:
    """Score per product id for `mode` ("lexical", "semantic" or "hybrid"); higher is better."""
    if query.is_empty:
        return {}
    catalog, examples = revision.current()
    version, examples_version = (catalog,), (examples,)
    if mode == "lexical":
        scores = lexical_scores(query.terms, statuses=statuses, version=version, limit=CANDIDATES)
        boosts = learned_boosts(query, version=examples_version)
    else:
        lexical = {}
        if mode == "hybrid":
            lexical = lexical_scores(
                query.terms, statuses=statuses, version=version, limit=CANDIDATES
            )
        vector = embeddings.encode_query(query.text)
        scores = semantic_scores(
            vector, statuses=statuses, version=version, limit=CANDIDATES, also=set(lexical)
        )
        for pk, score in lexical.items():
            scores[pk] = scores.get(pk, 0.0) + weights.lexical * score
        boosts = learned_boosts(query, vector, version=examples_version)
    if boosts:
        top = max(scores.values(), default=1.0)
        allowed = ProductKnowledge.objects.filter(pk__in=boosts, status__in=statuses)
        for pk in allowed.values_list("pk", flat=True):
            scores[pk] = scores.get(pk, 0.0) + weights.learned * boosts[pk] * top
    return scores
