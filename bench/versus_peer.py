"""The peer: django-helpdesk's staff ticket list vs our inbox, same data, same machine, same run.

django-helpdesk (PyPI) lives in bench/.peer-venv (bench/peer/setup.sh), with its own database
loaded from ours by bench/peer/load_peer.py through its models. Its ticket list page embeds a
DataTables JSON endpoint that returns the rows (25 by default); we request that URL as the page
does. Both servers are gunicorn with workers = cores and the bench timing middleware; one client,
sequential requests (concurrency 1), alternating between the two within each repeat.
"""

import json
import re
import subprocess
from pathlib import Path

from bench.core import (
    ROOT,
    Database,
    Result,
    Sizes,
    django_env,
    ensure_bench_data,
    free_port,
    gunicorn_cmd,
    has_gunicorn,
    login,
    median,
    sample,
    server,
)
from bench.inbox import PASSWORD, USERNAME

NAME = "peer"
GOAL = ">= 20x peer throughput"
PEER_DIR = ROOT / "bench" / "peer"
PEER_VENV = ROOT / "bench" / ".peer-venv"
PEER_ROWS = 25
STAFF_USERNAME, STAFF_PASSWORD = "bench-staff", "bench-password"  # created by load_peer.py
DATATABLES_RE = re.compile(r"datatables_ticket_list/([A-Za-z0-9_=-]+)")
WARMUP = 2


def peer_env(db: Database, **extra: str) -> dict[str, str]:
    env = django_env(db, **extra)
    env["DJANGO_SETTINGS_MODULE"] = "peer_site.settings"
    env["PYTHONPATH"] = str(PEER_DIR)  # not ROOT: our `helpdesk` would shadow django-helpdesk
    return env


def peer_python(db: Database, *args: str, timeout: float = 3600) -> str:
    done = subprocess.run(
        [str(PEER_VENV / "bin" / "python"), *args],
        env=peer_env(db),
        cwd=PEER_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"peer {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def ensure_peer_data(peer: Database, source: Database, sizes: Sizes, *, log) -> None:
    """Load the peer from `source` unless it already holds the same tickets."""
    record = (
        ROOT / "bench" / "results" / f"peer-{peer.name}.json"
        if peer.is_postgres
        else Path(peer.path + ".json")
    )
    wanted = {
        "tickets": source.scalar("SELECT count(*) FROM tickets_ticket"),
        "source_last": source.scalar("SELECT max(id) FROM tickets_ticket"),
    }
    if record.exists() and json.loads(record.read_text()) == wanted and peer.exists():
        log(f"  peer data: {wanted['tickets']:,} tickets in place")
        return
    peer.drop()
    peer.create()
    peer_python(peer, "manage.py", "migrate", "--noinput", "-v", "0")
    log("  " + peer_python(peer, "load_peer.py", source.url).strip())
    record.parent.mkdir(exist_ok=True)
    record.write_text(json.dumps(wanted))


def peer_gunicorn(port: int, workers: int) -> list[str]:
    cmd = gunicorn_cmd(port, workers=workers, app="peer_site.wsgi:application")
    cmd[0] = str(PEER_VENV / "bin" / "gunicorn")
    return cmd


def throughput(samples) -> float:
    """Requests per second at concurrency 1: count over the summed client-side time."""
    return len(samples) / (sum(s.client_ms for s in samples) / 1000)


def is_installed() -> bool:
    return (PEER_VENV / "bin" / "gunicorn").exists()


def prepare(sizes: Sizes, dbs: dict[str, Database], *, log) -> None:
    if is_installed():
        ensure_bench_data(dbs["main"], sizes, log=log)
        ensure_peer_data(dbs["peer"], dbs["main"], sizes, log=log)


def run(sizes: Sizes, dbs: dict[str, Database], *, log) -> list[Result]:
    if not is_installed() or not has_gunicorn():
        return [Result(NAME, "not run", GOAL, None, "run bench/peer/setup.sh first")]
    ours_db, peer_db = dbs["main"], dbs["peer"]
    prepare(sizes, dbs, log=log)
    ours_port, peer_port = free_port(), free_port()
    ours_base, peer_base = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{peer_port}"
    ratios, ours_rps, peer_rps = [], [], []
    with (
        server(
            gunicorn_cmd(ours_port, workers=sizes.workers),
            env=django_env(ours_db, BENCH_TIMING="1", PUBLIC_BASE_URL=ours_base),
            port=ours_port,
        ),
        server(
            peer_gunicorn(peer_port, sizes.workers),
            env=peer_env(peer_db, BENCH_TIMING="1"),
            port=peer_port,
            ready_path="/login/",
            cwd=PEER_DIR,
        ),
    ):
        ours = login(ours_base, USERNAME, PASSWORD)
        peer = login(peer_base, STAFF_USERNAME, STAFF_PASSWORD, path="/login/")
        page = peer.get(f"{peer_base}/tickets/", timeout=120)
        match = DATATABLES_RE.search(page.text)
        if page.status_code != 200 or not match:
            raise RuntimeError(f"peer ticket list has no DataTables URL ({page.status_code})")
        rows_url = f"{peer_base}/datatables_ticket_list/{match.group(1)}"
        peer_url = f"{rows_url}?draw=1&start=0&length={PEER_ROWS}"
        ours_url = f"{ours_base}/tickets/"
        json_headers = {"X-Requested-With": "XMLHttpRequest"}
        for repeat in range(sizes.repeats):
            sample(ours, ours_url, WARMUP)
            sample(peer, peer_url, WARMUP, headers=json_headers)
            ours_samples = sample(ours, ours_url, sizes.peer_requests, max_seconds=sizes.seconds)
            peer_samples = sample(
                peer, peer_url, sizes.peer_requests, headers=json_headers, max_seconds=sizes.seconds
            )
            ours_rps.append(throughput(ours_samples))
            peer_rps.append(throughput(peer_samples))
            ratios.append(ours_rps[-1] / peer_rps[-1])
            log(
                f"  #{repeat + 1}: ours {ours_rps[-1]:.1f} req/s "
                f"({ours_samples[0].queries} queries), peer {peer_rps[-1]:.2f} req/s "
                f"({peer_samples[0].queries} queries) -> {ratios[-1]:.1f}x"
            )
        ours_queries = ours_samples[0].queries
        peer_queries = {
            rows: sample(peer, f"{rows_url}?draw=1&start=0&length={rows}", 1, headers=json_headers)[
                0
            ].queries
            for rows in (PEER_ROWS, 100)
        }
    ratio = median(ratios)
    engine = "PostgreSQL" if ours_db.is_postgres else "SQLite"
    return [
        Result(
            f"{NAME}: django-helpdesk ticket list JSON ({PEER_ROWS} rows)",
            f"{median(peer_rps):.2f} req/s, queries {peer_queries[PEER_ROWS]} "
            f"(100 rows: {peer_queries[100]})",
            "reference",
            None,
            f"{sizes.tickets:,} tickets, {engine}, gunicorn {sizes.workers} workers, concurrency 1",
        ),
        Result(
            f"{NAME}: our /tickets/ (50 rows) vs peer",
            f"{median(ours_rps):.1f} req/s = {ratio:.1f}x peer, {ours_queries} queries",
            GOAL + ", queries flat",
            ratio >= 20,
            "query count vs page size: see inbox rows",
        ),
    ]
