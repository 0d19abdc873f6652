"""Live Printdesk servers for the fuzz and browser suites.

Each test module gets its own server process on a free port, serving a file SQLite database
copied from one template prepared per session by `migrate` + `seed_demo`:
- `demo_server`: daphne (`runserver_embedded`: HTTP + WebSocket + the task worker thread, the
  embedded default) for the browser, which needs the WebSocket;
- `api_server`: gunicorn, the production HTTP server (DESIGN.md "Runtime"), for API fuzzing.
  (Daphne's HTTP layer answers some malformed multipart bodies itself with an empty 400 before
  Django sees them; production never serves the API from daphne.)
Fuzzing writes freely, so it never shares a database with the browser tests.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

BASE_DIR = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 60.0


@dataclass(frozen=True)
class DemoServer:
    base_url: str
    database_url: str
    env: dict

    def manage(self, *args: str) -> str:
        return run_manage(*args, env=self.env)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test item, so fixtures can tell a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def server_env(database_path: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        # The server is one process with the in-memory channel layer (embedded default).
        if key not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="helpdesk.settings",
        DATABASE_URL=f"sqlite:///{database_path}",
        PYTHONUNBUFFERED="1",
    )
    return env


def run_manage(*args: str, env: dict) -> str:
    completed = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}"
        )
    return completed.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> Path:
    """A migrated database with the demo data, copied by each server that needs one."""
    path = tmp_path_factory.mktemp("demo-db") / "template.sqlite3"
    env = server_env(path)
    run_manage("migrate", "--noinput", env=env)
    run_manage("seed_demo", "--customers", "12", "--tickets", "40", env=env)
    return path


def daphne_command(port: int) -> list[str]:
    return [sys.executable, "manage.py", "runserver_embedded", "--port", str(port)]


def gunicorn_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "helpdesk.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--timeout",
        "60",
        # Fuzzing tests the app: without this, gunicorn itself answers a generated query string
        # over 4094 bytes with its own HTML 414 before Django can refuse it with the API's 400.
        "--limit-request-line",
        "0",
    ]


def start_server(
    database: Path, log_dir: Path, command, extra_env: dict | None = None
) -> tuple[subprocess.Popen, DemoServer]:
    env = {**server_env(database), **(extra_env or {})}
    port = free_port()
    log = (log_dir / "server.log").open("w")
    process = subprocess.Popen(
        command(port),
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = DemoServer(
        base_url=f"http://127.0.0.1:{port}", database_url=env["DATABASE_URL"], env=env
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {(log_dir / 'server.log').read_text()}")
            try:
                if requests.get(f"{server.base_url}/healthz", timeout=5).ok:
                    return process, server
            except requests.RequestException:
                pass  # not listening yet, or a worker still booting
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {(log_dir / 'server.log').read_text()}")
            time.sleep(0.2)
    except BaseException:
        process.kill()  # never leave a server behind (Ctrl-C included)
        process.wait()
        raise


def serve(
    demo_database: Path, workdir: Path, command, extra_env: dict | None = None
) -> Iterator[DemoServer]:
    database = workdir / "db.sqlite3"
    shutil.copyfile(demo_database, database)
    process, server = start_server(database, workdir, command, extra_env)
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def demo_server(demo_database, tmp_path_factory) -> Iterator[DemoServer]:
    yield from serve(demo_database, tmp_path_factory.mktemp("daphne"), daphne_command)


@pytest.fixture(scope="module")
def api_server(demo_database, tmp_path_factory) -> Iterator[DemoServer]:
    # Over a thousand requests a minute from one token and one address: with the production
    # rate limits the fuzzer would mostly meet 429s (helpdesk/tests/test_hardening.py tests them).
    unthrottled = {
        "API_RATE_LIMIT": "1000000/minute",
        "LOGIN_RATE_LIMIT": "1000000/minute",
        # The fuzzer's JWT must outlive the run (e2e/test_api_fuzz.py).
        "JWT_ACCESS_MINUTES": "120",
    }
    yield from serve(
        demo_database, tmp_path_factory.mktemp("gunicorn"), gunicorn_command, unthrottled
    )
