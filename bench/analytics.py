"""Analytics at volume: the reports page and its CSV exports for a 90-day range, read from the
daily rollups, against the same requests computed live; plus the rollup rebuild time.

gunicorn (workers = cores) with `BENCH_TIMING=1` on the main benchmark database (bench_data's
tickets and messages, with conversation logs and surveys added by `bench.analytics_setup`).
`rebuild_analytics_rollups` covers every day with data; the live side (full runs only) is the
same URLs with the coverage row removed (what a range before the covered one gets), put back
afterwards. One client, sequential requests after a warm-up; p95 of the server time, medians
over repeats.
"""

import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bench.analytics_setup import MANAGER
from bench.core import (
    PYTHON,
    ROOT,
    Database,
    Result,
    Sizes,
    django_env,
    ensure_bench_data,
    free_port,
    gunicorn_cmd,
    has_gunicorn,
    last_json_line,
    login,
    manage,
    median,
    migrate,
    percentile,
    sample,
    server,
)

NAME = "analytics"
GOAL_MS = 1000
GOAL = "p95 < 1 s (server), 90 days"
RANGE_DAYS = 90
WARMUP = 1
TABLES = ("kpis", "volume", "agents", "heatmap")
PASSWORD = "bench-password"  # bench_data's


def prepare(sizes: Sizes, dbs: dict[str, Database], *, log) -> None:
    db = dbs["analytics"]
    ensure_bench_data(db, sizes, log=log)
    if not sizes.smoke:
        db.is_migrated = False  # a kept volume may predate the rollup tables
    migrate(db)
    done = subprocess.run(
        [PYTHON, "-m", "bench.analytics_setup"],
        env=django_env(db),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(f"analytics_setup failed:\n{done.stderr[-2000:]}")
    log(f"  analytics rows added: {last_json_line(done.stdout)}")


def rebuild(db: Database) -> tuple[float, str]:
    out = manage(db, "rebuild_analytics_rollups", timeout=1800).strip()
    return float(re.search(r" in ([\d.]+)s$", out).group(1)), out


def local_today() -> date:
    """Today in the shop's TIME_ZONE (the setting's variable and default), as the reports see it."""
    return datetime.now(ZoneInfo(os.environ.get("TIME_ZONE", "UTC"))).date()


def targets(today: date) -> dict[str, str]:
    query = f"from={today - timedelta(days=RANGE_DAYS - 1)}&to={today}"
    urls = {"page": f"/analytics/?{query}"}
    urls.update(
        {f"CSV {table}": f"/analytics/?{query}&format=csv&table={table}" for table in TABLES}
    )
    return urls


def measure(session, base: str, urls: dict[str, str], sizes: Sizes, *, log, side: str) -> dict:
    """{label: [p95 per repeat]} plus the query counts seen."""
    figures: dict[str, dict] = {}
    for label, path in urls.items():
        p95s, queries, failed = [], set(), 0
        for repeat in range(sizes.repeats):
            sample(session, base + path, WARMUP)
            samples = sample(session, base + path, sizes.requests, max_seconds=sizes.seconds)
            failed += sum(1 for s in samples if s.status != 200)
            server_ms = [s.server_ms for s in samples if s.status == 200] or [float("nan")]
            queries |= {s.queries for s in samples}
            p95s.append(percentile(server_ms, 95))
            log(
                f"  {side} {label} #{repeat + 1}: p50 {percentile(server_ms, 50):.1f} ms, "
                f"p95 {p95s[-1]:.1f} ms, queries {sorted(queries)}, {len(samples)} requests"
            )
        figures[label] = {"p95": median(p95s), "queries": sorted(queries), "failed": failed}
    return figures


@contextmanager
def uncovered(db: Database) -> Iterator[None]:
    """Reports computed live: the rollup coverage row removed, then put back as it was."""
    conn = db.connect()
    try:
        row = conn.execute("SELECT id, covered_from, rebuilt_at FROM analytics_rollupcoverage")
        saved = row.fetchone()
        conn.execute("DELETE FROM analytics_rollupcoverage")
        yield
    finally:
        insert = "INSERT INTO analytics_rollupcoverage (id, covered_from, rebuilt_at) VALUES "
        conn.execute(insert + ("(%s, %s, %s)" if db.is_postgres else "(?, ?, ?)"), saved)
        conn.close()


def run(sizes: Sizes, dbs: dict[str, Database], *, log) -> list[Result]:
    if not has_gunicorn():
        return [Result(NAME, "not run", GOAL, None, "needs gunicorn")]
    db = dbs["analytics"]
    prepare(sizes, dbs, log=log)
    seconds, out = rebuild(db)
    log(f"  {out}")
    today = local_today()
    urls = targets(today)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = django_env(db, BENCH_TIMING="1", PUBLIC_BASE_URL=base)
    with server(gunicorn_cmd(port, workers=sizes.workers), env=env, port=port):
        session = login(base, MANAGER, PASSWORD)
        page = session.get(base + urls["page"], timeout=120)
        if 'data-report-source="rollups"' not in page.text:
            raise RuntimeError("the reports page did not read the rollups")
        rollup = measure(session, base, urls, sizes, log=log, side="rollups")
        live = {}
        if not sizes.smoke:  # the comparison says nothing at smoke sizes
            with uncovered(db):
                live = measure(session, base, urls, sizes, log=log, side="live")
    engine = "PostgreSQL" if db.is_postgres else "SQLite"
    scale = f"{sizes.tickets:,} tickets, {engine}"
    results = []
    for label in urls:
        ours = rollup[label]
        figure = f"p95 {ours['p95']:.0f} ms ({'/'.join(map(str, ours['queries']))} queries)"
        if label in live:
            figure += f"; live p95 {live[label]['p95']:.0f} ms"
        passed = ours["p95"] < GOAL_MS and not ours["failed"]
        note = f"{scale}; {ours['failed']} errors" if ours["failed"] else scale
        results.append(Result(f"{NAME} {label} (rollups)", figure, GOAL, passed, note))
    results.append(
        Result(
            f"{NAME} rollup rebuild",
            f"{seconds:.1f}s for every day with data",
            "reported",
            None,
            f"{scale}; {out.split(': ', 1)[-1]}",
        )
    )
    return results
