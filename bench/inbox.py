"""Inbox latency: server-side p50/p99 and queries per request of the ticket list pages and API.

gunicorn (workers = cores) on the benchmark database with `BENCH_TIMING=1`, so every response
carries its server time (all middleware included) and SQL query count. One client, sequential
requests, after a warm-up; figures are medians over repeats.
"""

import subprocess
from urllib.parse import quote

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
    median,
    percentile,
    sample,
    server,
)

NAME = "inbox"
GOAL = "p99 < 100 ms (server)"
USERNAME, PASSWORD = "bench-agent-1", "bench-password"  # created by bench_data
WARMUP = 3


def search_term(db: Database) -> str:
    """A customer's email address from the middle of the data: what an agent pastes."""
    middle = db.scalar("SELECT count(*) FROM tickets_customeridentity") // 2
    return str(
        db.scalar(
            "SELECT value FROM tickets_customeridentity WHERE kind = 'email' "
            "ORDER BY id LIMIT 1 OFFSET %s",
            [middle // 2],
        )
    )


def order_term(db: Database) -> str:
    """An order number from the middle of the data (`#10234` or a PERP `PD-ORD-…`), as an agent
    pastes it from a customer's message into the search box."""
    middle = db.scalar("SELECT max(id) FROM printshop_ticketorder") // 2
    return str(
        db.scalar(
            "SELECT number FROM printshop_ticketorder WHERE id >= %s ORDER BY id LIMIT 1", [middle]
        )
    )


def targets(db: Database) -> dict[str, str]:
    return {
        "/tickets/ (default view)": "/tickets/",
        "/tickets/ filtered (status+channel)": "/tickets/?view=all&status=open&channel=email",
        "/tickets/ search (customer email)": f"/tickets/?view=all&q={quote(search_term(db))}",
        "/tickets/ search (order number)": f"/tickets/?view=all&q={quote(order_term(db))}",
        "/api/tickets/": "/api/tickets/",
    }


def query_scaling(db: Database) -> dict[str, dict[str, int]]:
    done = subprocess.run(
        [PYTHON, "-m", "bench.query_scaling", USERNAME],
        env=django_env(db),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"query_scaling failed:\n{done.stderr[-2000:]}")
    return last_json_line(done.stdout)


def run(sizes: Sizes, dbs: dict[str, Database], *, log) -> list[Result]:
    if not has_gunicorn():
        return [Result(NAME, "not run", GOAL, None, "needs gunicorn")]
    db = dbs["main"]
    ensure_bench_data(db, sizes, log=log)
    urls = targets(db)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    per_url: dict[str, list[list]] = {label: [] for label in urls}
    missing: dict[str, int] = {}
    env = django_env(db, BENCH_TIMING="1", PUBLIC_BASE_URL=base)
    with server(gunicorn_cmd(port, workers=sizes.workers), env=env, port=port):
        session = login(base, USERNAME, PASSWORD)
        for label, path in urls.items():
            status = session.get(base + path, timeout=120).status_code
            if status != 200:
                missing[label] = status
        for repeat in range(sizes.repeats):
            for label, path in urls.items():
                if label in missing:
                    continue
                sample(session, base + path, WARMUP)
                samples = sample(session, base + path, sizes.requests, max_seconds=sizes.seconds)
                per_url[label].append(samples)
                server_ms = [s.server_ms for s in samples if s.status == 200] or [float("nan")]
                log(
                    f"  {label} #{repeat + 1}: p50 {percentile(server_ms, 50):.1f} ms, "
                    f"p99 {percentile(server_ms, 99):.1f} ms, queries {samples[0].queries}, "
                    f"{len(samples)} requests"
                )
    engine = "PostgreSQL" if db.is_postgres else "SQLite"
    results = []
    for label, runs in per_url.items():
        if label in missing:
            results.append(Result(f"{NAME} {label}", "not run", GOAL, None, f"{missing[label]}"))
            continue
        failed = sum(1 for r in runs for s in r if s.status != 200)
        runs = [[s for s in r if s.status == 200] for r in runs]
        if failed or not all(runs):
            results.append(
                Result(f"{NAME} {label}", "errors", GOAL, False, f"{failed} non-200 answers")
            )
            continue
        p50 = median([percentile([s.server_ms for s in r], 50) for r in runs])
        p99 = median([percentile([s.server_ms for s in r], 99) for r in runs])
        cpu = median([percentile([s.cpu_ms for s in r], 50) for r in runs])
        queries = sorted({s.queries for r in runs for s in r})
        count = sum(len(r) for r in runs)
        scale = f"{sizes.tickets:,} tickets, {count} req in {len(runs)} repeats, {engine}"
        results.append(
            Result(
                f"{NAME} {label}",
                f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, {'/'.join(map(str, queries))} queries",
                GOAL,
                p99 < 100,
                f"{scale}; app CPU p50 {cpu:.1f} ms",
            )
        )
    for label, counts in query_scaling(db).items():
        figure = ", ".join(f"{size} rows: {n} queries" for size, n in counts.items())
        results.append(
            Result(
                f"{NAME} {label} queries vs page size",
                figure,
                "same count at any page size",
                len(set(counts.values())) == 1,
            )
        )
    return results
