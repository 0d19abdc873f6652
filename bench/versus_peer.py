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
    cmd = gunicorn_cmd(port, workers=workers, app="peer_site.wsgi:application", config=None)
    cmd[0] = str(PEER_VENV / "bin" / "gunicorn")
    return cmd


def throughput(samples) -> float:
    """Answered requests per second at concurrency 1: 200s over the summed client-side time."""
    return sum(s.status == 200 for s in samples) / (sum(s.client_ms for s in samples) / 1000)


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
    rps: dict[str, list[float]] = {"rows": [], "page": [], "peer": []}
    queries: dict[str, int | None] = {}
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
        # Like for like: their rows come from a JSON endpoint, ours from the htmx partial the
        # inbox swaps in when filtering or paging; the full page is measured for reference.
        targets = {
            "rows": (ours, f"{ours_base}/tickets/", {"HX-Request": "true"}),
            "page": (ours, f"{ours_base}/tickets/", None),
            "peer": (
                peer,
                f"{rows_url}?draw=1&start=0&length={PEER_ROWS}",
                {"X-Requested-With": "XMLHttpRequest"},
            ),
        }
        for repeat in range(sizes.repeats):
            for key, (session, url, headers) in targets.items():
                sample(session, url, WARMUP, headers=headers)
                samples = sample(
                    session, url, sizes.peer_requests, headers=headers, max_seconds=sizes.seconds
                )
                rps[key].append(throughput(samples))
                queries[key] = samples[0].queries
            log(
                f"  #{repeat + 1}: ours rows {rps['rows'][-1]:.1f} req/s, page "
                f"{rps['page'][-1]:.1f} req/s ({queries['rows']} queries), peer "
                f"{rps['peer'][-1]:.2f} req/s ({queries['peer']} queries)"
            )
        session, _, headers = targets["peer"]
        peer_100 = sample(session, f"{rows_url}?draw=1&start=0&length=100", 1, headers=headers)
    rows_ratio = median([o / p for o, p in zip(rps["rows"], rps["peer"], strict=True)])
    page_ratio = median([o / p for o, p in zip(rps["page"], rps["peer"], strict=True)])
    engine = "PostgreSQL" if ours_db.is_postgres else "SQLite"
    setup = f"{sizes.tickets:,} tickets, {engine}, gunicorn {sizes.workers} workers, concurrency 1"
    return [
        Result(
            f"{NAME}: django-helpdesk ticket list JSON ({PEER_ROWS} rows)",
            f"{median(rps['peer']):.2f} req/s, {queries['peer']} queries "
            f"(100 rows: {peer_100[0].queries})",
            "reference",
            None,
            setup,
        ),
        Result(
            f"{NAME}: our inbox rows (htmx partial, 50 rows) vs peer",
            f"{median(rps['rows']):.1f} req/s = {rows_ratio:.1f}x peer, {queries['rows']} queries",
            GOAL + ", queries flat",
            rows_ratio >= 20,
            "query count vs page size: see inbox rows",
        ),
        Result(
            f"{NAME}: our full /tickets/ page vs peer rows",
            f"{median(rps['page']):.1f} req/s = {page_ratio:.1f}x peer, {queries['page']} queries",
            "reference",
            None,
            "the page adds the shell, filters and pickers to the rows",
        ),
    ]
