"""Product search at 10k products: lexical and hybrid p50, in-process, model load excluded."""

import json
import subprocess

from bench.core import (
    PYTHON,
    ROOT,
    Database,
    Result,
    Sizes,
    django_env,
    last_json_line,
    median,
    migrate,
    percentile,
)

NAME = "product search"
# `hybrid-new`: a question not asked before, so the query is embedded inside the timing.
GOALS = {"lexical": 30.0, "hybrid": 80.0, "hybrid-new": 80.0}


def worker(db: Database, sizes: Sizes, modes: list[str], searches: int, *, log) -> dict:
    config = {
        "products": sizes.products,
        "searches": searches,
        "repeats": sizes.repeats,
        "modes": modes,
        "max_seconds": sizes.seconds,
    }
    done = subprocess.run(
        [PYTHON, "-m", "bench.search_worker", json.dumps(config)],
        # No task worker runs here: the loader embeds directly, so enqueue nothing.
        env=django_env(db, TASKS_BACKEND="django_tasks.backends.dummy.DummyBackend"),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.stderr.strip():
        log(done.stderr.rstrip())
    if done.returncode != 0:
        raise RuntimeError(f"search_worker failed:\n{done.stderr[-2000:]}")
    return last_json_line(done.stdout)


def modes_for(sizes: Sizes) -> list[str]:
    return ["lexical"] if sizes.smoke else ["lexical", "hybrid", "hybrid-new"]


def prepare(sizes: Sizes, dbs: dict[str, Database], *, log) -> None:
    """Load (and embed) the products without measuring."""
    migrate(dbs["search"])
    worker(dbs["search"], sizes, modes_for(sizes), 0, log=log)


def run(sizes: Sizes, dbs: dict[str, Database], *, log) -> list[Result]:
    db = dbs["search"]
    migrate(db)
    modes = modes_for(sizes)
    p50s: dict[str, list[float]] = {mode: [] for mode in modes}
    p99s: dict[str, list[float]] = {mode: [] for mode in modes}
    outcome = worker(db, sizes, modes, sizes.searches, log=log)
    counts: dict[str, int] = {}
    for mode in modes:
        for repeat, chunk in enumerate(outcome.get(mode, [])):
            counts[mode] = counts.get(mode, 0) + len(chunk)
            p50s[mode].append(percentile(chunk, 50))
            p99s[mode].append(percentile(chunk, 99))
            log(f"  {mode} #{repeat + 1}: p50 {p50s[mode][-1]:.1f} ms")
    results = []
    engine = "PostgreSQL" if db.is_postgres else "SQLite"
    for mode, goal in GOALS.items():
        label = f"{NAME} {mode} ({sizes.products:,} products)"
        if not p50s.get(mode):
            reason = "smoke mode" if sizes.smoke else "ML extra not installed"
            results.append(Result(label, "not run", f"p50 < {goal:.0f} ms", None, reason))
            continue
        p50 = median(p50s[mode])
        results.append(
            Result(
                label,
                f"p50 {p50:.1f} ms, p99 {median(p99s[mode]):.1f} ms",
                f"p50 < {goal:.0f} ms",
                p50 < goal,
                f"{engine}, {counts[mode]} queries in {sizes.repeats} repeats, model load excluded",
            )
        )
    return results
