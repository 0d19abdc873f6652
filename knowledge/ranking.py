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

import bisect
import difflib
import functools
import json
import math
import operator
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F, Value

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
STEM_CACHE_SIZE = 4096
IDF_FLOOR = 1e-6  # FTS5's floor for the idf of a word in half the documents or more
# ts_rank per word on PostgreSQL: weights of the D, C (body), B (keywords), A (title) labels, and
# normalisation 32 (rank / (rank + 1)): a word's evidence saturates as in bm25, so one word
# repeated in a long description cannot outweigh the question's other words. Chosen on the
# evaluation set (docs/knowledge-search.md): the default weights (0.1, 0.2, 0.4, 1.0) without
# saturation gave hybrid meaning recall@3 0.70 there, these 0.80.
TS_RANK_WEIGHTS = [0.1, 0.5, 0.7, 1.0]
RANK_SATURATION = 32


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
_stem_cache: "OrderedDict[str, str]" = OrderedDict()  # word -> PostgreSQL lexeme ("" = stop word)


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


@dataclass(frozen=True)
class _LexemeStats:
    """How many products hold each lexeme of the PostgreSQL keyword index: the idf of bm25."""

    version: tuple
    products: int
    lexemes: tuple[str, ...]  # sorted, for prefix ranges
    counts: tuple[int, ...]  # products holding lexemes[i]


def _build_lexeme_stats(version: tuple) -> _LexemeStats:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM knowledge_productknowledge")
        (products,) = cursor.fetchone()
        cursor.execute(
            "SELECT word, ndoc FROM ts_stat("
            "'SELECT search_vector FROM knowledge_productknowledge "
            'WHERE search_vector IS NOT NULL\') ORDER BY word COLLATE "C"'
        )
        rows = cursor.fetchall()
    return _LexemeStats(
        version=version,
        products=products,
        lexemes=tuple(word for word, _ in rows),
        counts=tuple(count for _, count in rows),
    )


def _idf(stats: _LexemeStats, lexeme: str, *, prefix: bool) -> float:
    """bm25's idf, ln((N - n + 0.5) / (n + 0.5)), floored like FTS5's at 1e-6: a word in half the
    catalog or more ("business" among business cards) says nothing about which product is meant.
    A prefix's n counts each matching lexeme's products (capped at N)."""
    start = bisect.bisect_left(stats.lexemes, lexeme)
    if prefix:
        end = bisect.bisect_left(stats.lexemes, lexeme + "\U0010ffff", lo=start)
    else:
        end = start + 1 if stats.lexemes[start : start + 1] == (lexeme,) else start
    holding = min(sum(stats.counts[start:end]), stats.products)
    if not holding:
        return 0.0
    ratio = (stats.products - holding + 0.5) / (holding + 0.5)
    return max(math.log(ratio), IDF_FLOOR)


def _stems(terms: tuple[str, ...]) -> dict[str, str]:
    """Each term's lexeme in the index's `english` configuration (stop words have none). The
    stemmer's answers are kept per process (STEM_CACHE_SIZE words), so a repeated word costs no
    query."""
    missing = [term for term in terms if term not in _stem_cache]
    if missing:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t, (ts_lexize('english_stem', t))[1] FROM unnest(%s::text[]) AS t",
                [missing],
            )
            found = dict(cursor.fetchall())
        with _cache_lock:
            for term in missing:
                _stem_cache[term] = found.get(term) or ""
            while len(_stem_cache) > STEM_CACHE_SIZE:
                _stem_cache.popitem(last=False)
    with _cache_lock:
        for term in terms:
            if term in _stem_cache:
                _stem_cache.move_to_end(term)  # least recently used words go first
        return {term: _stem_cache[term] for term in terms if _stem_cache.get(term)}


def _postgres_scores(
    terms: tuple[str, ...], statuses: tuple[str, ...], limit: int, *, version: tuple
) -> dict:
    """bm25's shape on the persisted `search_vector`: ts_rank per query word, saturating, weighted
    by the word's idf and summed. ts_rank alone has no idf, so a product matching the common
    words of a question outranked the one matching its rare word (hybrid meaning recall@3 0.68
    against 0.88 on SQLite's bm25).

    Words in half the catalog or more weigh next to nothing (FTS5's idf floor), so they are ranked
    only when the telling words leave places free: a question of common words still finds
    products, and a broad word never makes every product a candidate to rank."""
    stats = _cached("lexemes", version, _build_lexeme_stats)
    telling, common, seen = [], [], set()
    for term, stem in _stems(terms).items():
        prefix = len(term) >= PREFIX_MIN_LENGTH
        if (stem, prefix) in seen:  # "card" and "cards"
            continue
        seen.add((stem, prefix))
        idf = _idf(stats, stem, prefix=prefix)
        if idf:
            (telling if idf > IDF_FLOOR else common).append((idf, f"{term}:*" if prefix else term))
    scores = _ranked(telling, statuses, limit)
    if len(scores) < limit and common:
        for pk, score in _ranked(common, statuses, limit).items():
            scores.setdefault(pk, score)
    return dict(sorted(scores.items(), key=lambda item: -item[1])[:limit])


def _ranked(words: list[tuple[float, str]], statuses: tuple[str, ...], limit: int) -> dict:
    """The `limit` best products matching any of `words` ((idf, tsquery word) pairs)."""
    from django.contrib.postgres.search import SearchQuery, SearchRank

    if not words:
        return {}
    # Words are [^\W_]+ (with a prefix mark), so the raw tsquery syntax cannot be injected.
    queries = [SearchQuery(word, search_type="raw", config="english") for _, word in words]
    score = functools.reduce(
        operator.add,
        (
            Value(idf)
            * SearchRank(
                F("search_vector"),
                query,
                normalization=Value(RANK_SATURATION),
                weights=TS_RANK_WEIGHTS,
            )
            for (idf, _), query in zip(words, queries, strict=True)
        ),
    )
    return dict(
        ProductKnowledge.objects.filter(
            search_vector=functools.reduce(operator.or_, queries), status__in=statuses
        )
        .annotate(rank=score)
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
        raw = _postgres_scores(terms, statuses, limit, version=version)
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
