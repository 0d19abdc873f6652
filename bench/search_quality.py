"""Product search quality: recall@1/@3 per mode and question kind on knowledge/eval.

Runs `manage.py search_quality --load-catalog` (the 150-product catalog fixture; quality does not
depend on the volume) on a SQLite file of its own and, in full runs, on a PostgreSQL database of
its own (`<BENCH_DATABASE_URL>_quality`): the keyword half is ranked by each database. Computed
vectors are kept in bench/results/embeddings.sqlite3 between runs, so only changed passages are
embedded again. Smoke runs evaluate a slice of the set in lexical mode only, on SQLite.
"""

import json
from pathlib import Path

from bench.core import RESULTS, Database, Result, Sizes, manage, migrate

NAME = "search quality"
HYBRID_GOAL = "r@3 ≥ 0.90, meaning r@3 ≥ 0.85, r@1 ≥ 0.75, keyword r@3 1.00"
SMOKE_SLICE = 4  # questions per kind


def _figure(by_kind: dict) -> str:
    total = by_kind["all"]
    kinds = ", ".join(
        f"{kind} {by_kind[kind]['recall_at_1']:.2f}/{by_kind[kind]['recall_at_3']:.2f}"
        for kind in ("keyword", "meaning", "order")
        if kind in by_kind
    )
    return f"r@1 {total['recall_at_1']:.2f}, r@3 {total['recall_at_3']:.2f} ({kinds})"


def _meets_goals(by_kind: dict) -> bool:
    return (
        by_kind["all"]["recall_at_3"] >= 0.90
        and by_kind["meaning"]["recall_at_3"] >= 0.85
        and by_kind["all"]["recall_at_1"] >= 0.75
        and by_kind["keyword"]["recall_at_3"] == 1.0
    )


def run(sizes: Sizes, dbs: dict[str, Database], *, log) -> list[Result]:
    """On SQLite (FTS5 bm25) and, when the run has PostgreSQL, on it too (its own ranking of
    the keyword half: knowledge/ranking.py)."""
    sqlite = dbs.get("quality") or Database(f"sqlite:///{RESULTS / 'search-quality.sqlite3'}")
    results = _evaluate(sqlite, sizes, log=log)
    if "quality_postgres" in dbs and not sizes.smoke:
        results += _evaluate(dbs["quality_postgres"], sizes, log=log)
    return results


def _evaluate(db: Database, sizes: Sizes, *, log) -> list[Result]:
    engine = "PostgreSQL" if db.is_postgres else "SQLite"
    if not db.is_postgres and not sizes.smoke:
        Path(db.path).unlink(missing_ok=True)  # a fresh catalog every full run
    migrate(db)
    args = ["search_quality", "--load-catalog", "--json"]  # an upsert: a kept database is fine
    if sizes.smoke:
        args += ["--modes", "lexical", "--limit", str(SMOKE_SLICE)]
    else:
        RESULTS.mkdir(parents=True, exist_ok=True)
        args += ["--embedding-cache", str(RESULTS / "embeddings.sqlite3")]
    out = json.loads(
        manage(db, *args, timeout=3600, TASKS_BACKEND="django_tasks.backends.dummy.DummyBackend")
        .strip()
        .splitlines()[-1]
    )
    log(
        f"  {engine}: catalog loaded in {out['load_seconds']}s, evaluated in {out['eval_seconds']}s"
    )
    results = []
    for mode in ("lexical", "semantic", "hybrid"):
        label = f"{NAME} {mode} ({engine})"
        by_kind = out["report"].get(mode)
        if by_kind is None:
            reason = "smoke mode" if sizes.smoke else "ML extra not installed"
            goal = HYBRID_GOAL if mode == "hybrid" else "reference"
            results.append(Result(label, "not run", goal, None, reason))
            continue
        count = by_kind["all"]["count"]
        note = f"{count} questions, recall@1/@3 per kind"
        if mode == "hybrid" and not sizes.smoke:
            note += f"; lexical weight {out['weights']['lexical']}"
            results.append(
                Result(label, _figure(by_kind), HYBRID_GOAL, _meets_goals(by_kind), note)
            )
        else:
            results.append(Result(label, _figure(by_kind), "reference", None, note))
    return results
