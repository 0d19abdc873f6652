"""What every benchmark shares: results, sizes, databases, server processes, statistics."""

import json
import math
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"  # gitignored: kept between runs on one machine
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
PYTHON = sys.executable
BIN = Path(PYTHON).parent
CORES = os.cpu_count() or 1


@dataclass
class Result:
    """One table row. `passed` is None when the figure has no goal or could not be measured."""

    benchmark: str
    figure: str
    goal: str
    passed: bool | None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return "n/a"
        return "pass" if self.passed else "FAIL"


@dataclass(frozen=True)
class Sizes:
    """How big a run is. `smoke()` is the seconds-long variant the test suite runs."""

    smoke: bool = False
    tickets: int = 100_000
    messages_per_ticket: int = 10
    repeats: int = 3
    seconds: float = 10.0  # one load measurement, never above 30 s
    connections: int = 16
    requests: int = 100  # latency samples per URL and repeat (bounded by `seconds`)
    ws_clients: int = 200
    ws_frames: int = 100
    ws_rate: float = 20.0
    products: int = 10_000
    searches: int = 50
    peer_requests: int = 50  # per side and repeat (bounded by `seconds`)
    workers: int = CORES  # gunicorn workers (DESIGN.md: workers = cores)
    settle: float = 1.0  # seconds of quiet between a fan-out warm-up and its measurement
    visitors: int = 1000  # web-chat visitor sockets, each its own conversation
    visitor_rate: float = 100.0  # agent replies published per second, one per visitor

    @classmethod
    def for_smoke(cls) -> "Sizes":
        return cls(
            smoke=True,
            tickets=120,
            messages_per_ticket=3,
            repeats=1,
            seconds=1.0,
            connections=2,
            requests=5,
            ws_clients=4,
            ws_frames=6,
            ws_rate=50.0,
            products=40,
            searches=3,
            peer_requests=2,
            workers=1,
            settle=0.2,
            visitors=4,
            visitor_rate=50.0,
        )


@dataclass
class Database:
    """A database for bench servers, by URL; SQLite files and PostgreSQL databases alike."""

    url: str
    env_extra: dict[str, str] = field(default_factory=dict)
    is_migrated: bool = False  # by this process, so a second `migrate()` is skipped

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith(("postgres://", "postgresql://"))

    @property
    def name(self) -> str:
        return Path(urlparse(self.url).path).stem

    @property
    def path(self) -> str:
        return urlparse(self.url).path

    def connect(self):
        """A DB-API connection in autocommit mode (psycopg or sqlite3)."""
        if self.is_postgres:
            import psycopg

            return psycopg.connect(self.url, autocommit=True)
        return sqlite3.connect(urlparse(self.url).path, isolation_level=None)

    def scalar(self, sql: str, params: Sequence = ()) -> object:
        """One value from SQL written with `%s` placeholders."""
        if not self.is_postgres:
            sql = sql.replace("%s", "?")
        conn = self.connect()
        try:
            return conn.execute(sql, params).fetchone()[0]
        finally:
            conn.close()

    def exists(self) -> bool:
        if self.is_postgres:
            name = urlparse(self.url).path.lstrip("/")
            admin = self.url.rsplit("/", 1)[0] + "/postgres"
            return bool(
                Database(admin).scalar(
                    "SELECT count(*) FROM pg_database WHERE datname = %s", [name]
                )
            )
        return Path(urlparse(self.url).path).exists()

    def create(self) -> None:
        if self.is_postgres and not self.exists():
            import psycopg

            name = urlparse(self.url).path.lstrip("/")
            admin = self.url.rsplit("/", 1)[0] + "/postgres"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')

    def drop(self) -> None:
        if self.is_postgres:
            import psycopg

            name = urlparse(self.url).path.lstrip("/")
            admin = self.url.rsplit("/", 1)[0] + "/postgres"
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(urlparse(self.url).path + suffix).unlink(missing_ok=True)

    def table_exists(self, table: str) -> bool:
        if not self.exists():
            return False
        if self.is_postgres:
            return self.scalar("SELECT to_regclass(%s) IS NOT NULL", [table]) in (True, 1)
        return bool(
            self.scalar(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name=%s", [table]
            )
        )


def raise_open_files_limit() -> None:
    """The soft RLIMIT_NOFILE up to the hard one: 1,000 sockets pass the usual default of 1,024
    once the process's own files are counted. Servers started afterwards inherit it."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


@cache
def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(redis_url(), socket_timeout=2).ping())
    except redis.RedisError:
        return False


def django_env(db: Database, **extra: str) -> dict[str, str]:
    """Environment of a bench server or command: bench settings on `db`, no .env surprises.

    Redis (cache, channel layer) is the bench's own database number, never the caller's
    REDIS_URL: a test run's Redis keys and a benchmark's must not meet.
    """
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    if redis_available():
        env["REDIS_URL"] = redis_url()
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=db.url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="bench-only-secret-key-not-for-production-use-0123456789",
        # Plain HTTP on loopback with no TLS proxy in front, and no collectstatic run:
        # the rest of the production hardening stays on.
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_STATIC_MANIFEST="0",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update(db.env_extra)
    env.update(extra)
    return env


def manage(db: Database, *args: str, timeout: float = 900, **extra: str) -> str:
    """Run a manage.py command against `db` with bench settings; returns its stdout."""
    done = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args, "--skip-checks"],
        env=django_env(db, **extra),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def last_json_line(stdout: str):
    """A worker's result: its last stdout line (Django may log JSON lines to stdout before it)."""
    return json.loads(stdout.strip().splitlines()[-1])


def migrate(db: Database) -> None:
    if db.is_migrated:
        return
    db.create()
    manage(db, "migrate", "--noinput", "-v", "0")
    db.is_migrated = True


def volume_record(db: Database) -> Path:
    """Where the generation of `db`'s volume is recorded (time, disk use, load average)."""
    return RESULTS / f"data-{db.name}.json" if db.is_postgres else Path(db.path + ".json")


def ensure_bench_data(db: Database, sizes: Sizes, *, log) -> float:
    """Make `db` hold exactly the requested volume; returns the generation time in seconds.

    Generating 100k tickets takes minutes, so the volume is kept between runs and regenerated
    only when it differs; the time it took is kept next to it in bench/results/.
    """
    record = volume_record(db)
    wanted = {"tickets": sizes.tickets, "messages": sizes.tickets * sizes.messages_per_ticket}
    if db.table_exists("tickets_ticket") and record.exists():
        have = {
            "tickets": db.scalar("SELECT count(*) FROM tickets_ticket"),
            "messages": db.scalar("SELECT count(*) FROM tickets_ticketmessage"),
        }
        saved = json.loads(record.read_text())
        if have == wanted and saved.get("tickets") == sizes.tickets:
            log(f"  data: {have['tickets']:,} tickets / {have['messages']:,} messages in place")
            return float(saved["seconds"])
    if not db.is_migrated or db.scalar("SELECT count(*) FROM tickets_ticket"):
        db.drop()
        db.is_migrated = False
        migrate(db)
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    out = manage(
        db,
        "bench_data",
        "--tickets",
        str(sizes.tickets),
        "--messages-per-ticket",
        str(sizes.messages_per_ticket),
        "-v",
        "0",
        timeout=3600,
    )
    wall = time.perf_counter() - started
    log(f"  {out.strip()} (wall {wall:.1f}s)")
    # The command's own figure: interpreter and Django start-up are not generation.
    seconds = float(re.search(r" in ([\d.]+)s on ", out).group(1))
    disk = re.search(r"^disk: (\d+) bytes \((.*)\)$", out, re.MULTILINE)
    if db.is_postgres:
        with db.connect() as conn:
            conn.execute("VACUUM ANALYZE")
    record.parent.mkdir(exist_ok=True)
    details = {"disk_bytes": int(disk.group(1)), "disk": disk.group(2)} if disk else {}
    details["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    record.write_text(json.dumps({**wanted, "seconds": seconds, **details, "report": out.strip()}))
    return seconds


SMOKE_ENV = {"BENCH_FAST_PASSWORDS": "1"}


def smoke_databases(tmp: Path, names: Sequence[str]) -> dict[str, Database]:
    """SQLite files for a smoke run: migrated once, copied per concern (copies are cheap)."""
    template = Database(f"sqlite:///{tmp / 'template.sqlite3'}", SMOKE_ENV)
    migrate(template)
    dbs = {}
    for name in names:
        path = tmp / f"{name}.sqlite3"
        shutil.copyfile(template.path, path)
        dbs[name] = Database(f"sqlite:///{path}", SMOKE_ENV, is_migrated=True)
    return dbs


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A free loopback port: any, or the first free one of BENCH_PORTS ("8120-8129") on a
    shared machine where each user has a range."""
    first, _, last = os.environ.get("BENCH_PORTS", "0-0").partition("-")
    for port in range(int(first), int(last or first) + 1):
        if port and port in _HANDED_OUT:
            continue  # given to a server that may not be listening yet
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            port = sock.getsockname()[1]
        if int(first):
            _HANDED_OUT.add(port)
        return port
    raise RuntimeError(f"no free port in BENCH_PORTS={os.environ['BENCH_PORTS']}")


@contextmanager
def server(
    cmd: list[str],
    *,
    env: dict[str, str],
    port: int,
    ready_path: str | None = "/healthz",
    cwd: Path = ROOT,
    ready_timeout: float = 60,
) -> Iterator[subprocess.Popen]:
    """Start a server process, wait until it answers on 127.0.0.1:`port`, stop it afterwards."""
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_ready(proc, port, ready_path, log, timeout=ready_timeout)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_until_ready(proc: subprocess.Popen, port: int, path: str | None, log, timeout=60) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"server exited early:\n{log.read().decode()[-3000:]}")
        try:
            if path is None:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            else:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2).close()
            return
        except OSError as exc:  # refused while booting, or an HTTP error status
            last_error = exc
            time.sleep(0.1)
    log.seek(0)
    raise RuntimeError(
        f"server on port {port} not ready in {timeout}s ({last_error}):\n"
        f"{log.read().decode()[-3000:]}"
    )


def gunicorn_cmd(
    port: int,
    *,
    workers: int = CORES,
    app: str = "helpdesk.wsgi:application",
    config: Path | None = GUNICORN_CONFIG,
    host: str = "127.0.0.1",
) -> list[str]:
    """gunicorn as deployed (deploy/gunicorn.conf.py), on a bench port with bench workers."""
    return [
        str(BIN / "gunicorn"),
        app,
        *(["--config", str(config)] if config and config.exists() else []),
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--backlog",
        "2048",
        "--timeout",
        "60",
        # One control socket per user by default: parallel gunicorns would fight over it.
        "--no-control-socket",
    ]


def has_gunicorn() -> bool:
    return (BIN / "gunicorn").exists()


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


@dataclass
class Sample:
    status: int
    client_ms: float
    server_ms: float | None
    queries: int | None
    cpu_ms: float | None = None


def login(base: str, username: str, password: str, *, path: str = "/accounts/login/"):
    """A requests session logged in through the real login form (CSRF and all)."""
    import requests

    session = requests.Session()
    session.get(f"{base}{path}", timeout=30).raise_for_status()
    response = session.post(
        f"{base}{path}",
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}{path}"},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302 or "sessionid" not in session.cookies:
        raise RuntimeError(f"login as {username} failed ({response.status_code})")
    return session


def sample(
    session, url: str, count: int, *, headers: dict | None = None, max_seconds: float = 30.0
) -> list[Sample]:
    """Up to `count` sequential GETs (concurrency 1) within `max_seconds` (at least one), with
    the bench middleware's figures when the server has it."""
    import requests

    samples: list[Sample] = []
    deadline = time.perf_counter() + max_seconds
    while len(samples) < count and (not samples or time.perf_counter() < deadline):
        started = time.perf_counter()
        try:
            response = session.get(url, headers=headers, timeout=60)
        except requests.RequestException:
            # A worker killed on timeout, a reset: an answer that never came, not a crash here.
            samples.append(Sample(0, (time.perf_counter() - started) * 1000, None, None))
            continue
        client_ms = (time.perf_counter() - started) * 1000
        timings = dict(re.findall(r"(\w+);dur=([\d.]+)", response.headers.get("Server-Timing", "")))
        queries = response.headers.get("X-Bench-Queries")
        samples.append(
            Sample(
                response.status_code,
                client_ms,
                float(timings["app"]) if "app" in timings else None,
                int(queries) if queries else None,
                float(timings["cpu"]) if "cpu" in timings else None,
            )
        )
    return samples
