"""Inbound SMS under a catalog re-embed: queues by urgency, on both runtimes.

While the bulk queue re-embeds the demo catalog for real (the ML extra; every product's hash is
cleared and `embed_products_task` enqueued again whenever the previous one finished), 20 signed
Twilio inbound SMS are posted one per second, each from a new number with a unique body. A
poller reads `GET /api/tickets/?q=<run tag>` as a logged-in agent every 0.1 s; a message's
latency is from its post to the first listing that shows its ticket. Both topologies run on
the same demo data: `runserver_embedded` (SQLite, worker threads per queue) and serve-prod
(deploy/serve_prod.py: gunicorn + daphne + a db_worker per queue, PostgreSQL and Redis).
"""

import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

import requests
from twilio.request_validator import RequestValidator

from bench.core import (
    PYTHON,
    ROOT,
    Database,
    Result,
    Sizes,
    django_env,
    free_port,
    login,
    manage,
    migrate,
    percentile,
    redis_available,
    server,
)
from bench.ingest import ACCOUNT_SID, AUTH_TOKEN, SHOP_NUMBER, sms_params

NAME = "inbound SMS under a catalog re-embed"
GOAL = "p95 ≤ 2 s, all visible"
MESSAGES = 20
VISIBLE_TIMEOUT = 30.0
REEMBED = (
    "from knowledge.models import ProductKnowledge\n"
    "from knowledge.tasks import embed_products_task\n"
    "ProductKnowledge.objects.update(embedded_hash='')\n"
    "embed_products_task.enqueue(product_ids=None)\n"
)
BULK_BUSY_SQL = (
    "SELECT count(*) FROM django_tasks_database_dbtaskresult "
    "WHERE queue_name = 'bulk' AND status IN ('READY', 'RUNNING')"
)
BULK_RUNNING_SQL = BULK_BUSY_SQL.replace("IN ('READY', 'RUNNING')", "= 'RUNNING'")


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    missing: int = 0
    posted_while_bulk_ran: int = 0
    reembeds: int = 0


def keep_bulk_busy(db: Database, stop: threading.Event, run: Run) -> None:
    """Whenever no re-embed is queued or running, start another (until `stop`)."""
    while not stop.is_set():
        if not db.scalar(BULK_BUSY_SQL):
            subprocess.run(
                [PYTHON, str(ROOT / "manage.py"), "shell", "-c", REEMBED],
                env=django_env(db),
                cwd=ROOT,
                check=True,
                capture_output=True,
                timeout=120,
            )
            run.reembeds += 1
        stop.wait(0.5)


def wait_for_bulk(db: Database, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.scalar(BULK_RUNNING_SQL):
            return True
        time.sleep(0.2)
    return False


def measure(db: Database, base: str, *, count: int, log) -> Run:
    run = Run()
    tag = f"q{uuid.uuid4().hex[:10]}"
    agent = login(base, "ana", "printdesk-demo")
    stop = threading.Event()
    busy = threading.Thread(target=keep_bulk_busy, args=(db, stop, run), daemon=True)
    busy.start()
    if not wait_for_bulk(db):
        log("  the re-embed did not start within 60 s")
    posted: dict[str, float] = {}
    seen: dict[str, float] = {}

    def poll() -> None:
        while not stop.is_set() or len(seen) < len(posted):
            response = agent.get(
                f"{base}/api/tickets/", params={"view": "all", "q": tag, "limit": 100}, timeout=10
            )
            now = time.monotonic()
            for ticket in response.json().get("results", []):
                for key in posted:
                    if key in ticket.get("subject", "") and key not in seen:
                        seen[key] = now
            if stop.is_set() and now - max(posted.values(), default=now) > VISIBLE_TIMEOUT:
                return
            time.sleep(0.1)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    validator = RequestValidator(AUTH_TOKEN)
    url = f"{base}/api/webhooks/twilio"
    for n in range(count):
        key = f"{tag}-{n:02d}"
        params = sms_params(f"SM{uuid.uuid4().hex}", n)
        params["From"] = f"+1555{uuid.uuid4().int % 10**7:07d}"
        params["Body"] = f"Bench {key}: is my order ready?"
        signature = validator.compute_signature(url, params)
        run.posted_while_bulk_ran += bool(db.scalar(BULK_RUNNING_SQL))
        posted[key] = time.monotonic()
        response = requests.post(
            url,
            data=urlencode(params),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            },
            timeout=10,
        )
        response.raise_for_status()
        time.sleep(max(0.0, posted[key] + 1.0 - time.monotonic()))
    stop.set()
    poller.join(timeout=VISIBLE_TIMEOUT + 15)
    busy.join(timeout=120)
    run.latencies = [seen[key] - posted[key] for key in posted if key in seen]
    run.missing = len(posted) - len(run.latencies)
    return run


def seeded(db: Database, log) -> None:
    migrate(db)
    log(f"  seed_demo on {db.name}")
    manage(db, "seed_demo", timeout=1200)


def result(topology: str, run: Run, count: int) -> Result:
    if not run.latencies:
        return Result(f"{NAME}: {topology}", "nothing visible", GOAL, False, f"{run.missing} lost")
    p50, p95 = percentile(run.latencies, 50), percentile(run.latencies, 95)
    return Result(
        f"{NAME}: {topology}",
        f"p50 {p50:.2f} s, p95 {p95:.2f} s, max {max(run.latencies):.2f} s",
        GOAL,
        p95 <= 2.0 and run.missing == 0,
        f"{count} SMS at 1/s, {run.posted_while_bulk_ran}/{count} posted while the re-embed ran "
        f"({run.reembeds} re-embed task(s)); {run.missing} not visible",
    )


def twilio_env(db: Database, base: str, **extra: str) -> dict[str, str]:
    return django_env(
        db,
        PUBLIC_BASE_URL=base,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_SMS_FROM=SHOP_NUMBER,
        **extra,
    )


def run_embedded(db: Database, *, count: int, log) -> Result:
    seeded(db, log)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [PYTHON, str(ROOT / "manage.py"), "runserver_embedded", "--port", str(port)]
    with server(cmd, env=twilio_env(db, base), port=port):
        run = measure(db, base, count=count, log=log)
    return result("runserver_embedded (SQLite, worker thread per queue)", run, count)


def run_serve_prod(db: Database, *, count: int, log) -> Result:
    seeded(db, log)
    port, http_port, ws_port = free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [
        PYTHON,
        str(ROOT / "deploy" / "serve_prod.py"),
        "--port",
        str(port),
        "--http-port",
        str(http_port),
        "--ws-ports",
        str(ws_port),
        "--http-workers",
        "2",
    ]
    # Six processes boot at once: on a loaded 2-core machine that takes over a minute.
    with server(cmd, env=twilio_env(db, base), port=port, ready_timeout=240):
        run = measure(db, base, count=count, log=log)
    return result("serve-prod (gunicorn, daphne, db_worker per queue; PostgreSQL)", run, count)


def run(sizes: Sizes, dbs: dict[str, Database], *, log) -> list[Result]:
    if sizes.smoke:
        return [Result(NAME, "not run", GOAL, None, "smoke: needs demo data and the ML extra")]
    results = [guarded("runserver_embedded", run_embedded, dbs["queues_embedded"], log=log)]
    if not redis_available():
        results.append(Result(f"{NAME}: serve-prod", "not run", GOAL, None, "needs Redis"))
    else:
        results.append(guarded("serve-prod", run_serve_prod, dbs["queues"], log=log))
    return results


def guarded(topology: str, measure_one, db: Database, *, log) -> Result:
    """One topology failing to start (a busy machine) still reports the other."""
    try:
        return measure_one(db, count=MESSAGES, log=log)
    except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as exc:
        log(f"  {topology} error: {exc}")
        return Result(f"{NAME}: {topology}", "error", GOAL, False, str(exc).splitlines()[0][:200])
