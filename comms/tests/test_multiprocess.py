"""Two daphne processes sharing Redis and one database: typing and presence cross processes,
a killed process's users go offline within the heartbeat window, and the per-user socket cap
closes the oldest socket whichever process holds it."""

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

pytestmark = [pytest.mark.redis, pytest.mark.anyio]

ROOT = Path(__file__).resolve().parents[2]
HEARTBEAT_SECONDS = 0.3
TIMEOUT_SECONDS = 1.2

SETUP_SCRIPT = """
import json
import django
django.setup()
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from accounts.models import User

call_command("migrate", verbosity=0)
out = {}
for name in ("ana", "bob"):
    user = User.objects.create_user(username=name, password="x")
    user.groups.add(Group.objects.get(name="Agent"))
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    out[name] = {"id": user.pk, "session": session.session_key}
print(json.dumps(out))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne on {port} exited: {process.stderr.read().decode()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"daphne on {port} did not start")


@pytest.fixture
def cluster(tmp_path):
    redis_url = os.environ["REDIS_URL"].rsplit("/", 1)[0] + f"/{random.randint(8, 15)}"
    # A file SQLite database in both passes: migrating a fresh PostgreSQL database costs ~40 s,
    # and what is under test (the channel layer and heartbeats) does not depend on the engine.
    database = f"sqlite:///{tmp_path / 'cluster.sqlite3'}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PRESENCE_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        "PRESENCE_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS),
        "TYPING_TTL_SECONDS": "6",
        "STAFF_SOCKET_MAX_PER_USER": "2",
    }
    setup = subprocess.run(
        [sys.executable, "-c", SETUP_SCRIPT], env=env, cwd=ROOT, capture_output=True, check=True
    )
    users = json.loads(setup.stdout.decode().strip().splitlines()[-1])
    daphne = str(Path(sys.executable).parent / "daphne")
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [daphne, "-b", "127.0.0.1", "-p", str(port), "helpdesk.asgi:application"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    try:
        # Under a loaded 2-core CI machine two daphne processes took more than 15 s to start.
        deadline = time.monotonic() + 60
        for port, process in zip(ports, processes, strict=True):
            wait_for_port(port, process, deadline)
        yield {"ports": ports, "processes": processes, "users": users}
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()


def open_socket(port: int, session_key: str):
    return connect(
        f"ws://127.0.0.1:{port}/ws/staff/",
        origin=f"http://127.0.0.1:{port}",
        additional_headers={"Cookie": f"sessionid={session_key}"},
        open_timeout=5,
    )


async def next_frame(ws, predicate, timeout: float = 5.0) -> dict:
    async def find():
        while True:
            frame = json.loads(await ws.recv())
            if predicate(frame):
                return frame

    return await asyncio.wait_for(find(), timeout)


async def test_typing_and_presence_cross_processes_and_a_dead_process_goes_offline(cluster):
    port_a, port_b = cluster["ports"]
    ana, bob = cluster["users"]["ana"], cluster["users"]["bob"]

    def presence_of(user_id, status):
        return lambda f: (
            f["type"] == "presence" and f["user"]["id"] == user_id and f["status"] == status
        )

    async with open_socket(port_b, bob["session"]) as bob_ws:
        ana_ws = await open_socket(port_a, ana["session"])
        await next_frame(bob_ws, presence_of(ana["id"], "online"))

        for ws in (ana_ws, bob_ws):
            await ws.send(json.dumps({"type": "subscribe", "channel": "general"}))
            await next_frame(ws, lambda f: f["type"] == "subscribed")

        await ana_ws.send(json.dumps({"type": "typing", "channel": "general", "is_typing": True}))
        typing = await next_frame(bob_ws, lambda f: f["type"] == "typing")
        assert typing["user"]["id"] == ana["id"] and typing["is_typing"] is True

        await ana_ws.send(json.dumps({"type": "presence", "status": "busy"}))
        await next_frame(bob_ws, presence_of(ana["id"], "busy"))

        # Process A dies without closing its sockets: no disconnect handler runs there.
        started = time.monotonic()
        cluster["processes"][0].send_signal(signal.SIGKILL)
        await next_frame(bob_ws, presence_of(ana["id"], "offline"), timeout=10)
        assert time.monotonic() - started < TIMEOUT_SECONDS + 3 * HEARTBEAT_SECONDS + 2


async def test_the_socket_cap_closes_the_oldest_socket_in_another_process(cluster):
    port_a, port_b = cluster["ports"]
    ana = cluster["users"]["ana"]
    oldest = await open_socket(port_a, ana["session"])
    # Opened one after the other: the first is the oldest, and it lives in the other process.
    async with (
        open_socket(port_b, ana["session"]) as second,
        open_socket(port_b, ana["session"]) as third,
    ):
        error = await next_frame(oldest, lambda f: f["type"] == "error")
        assert error["code"] == "too_many_sockets"
        await asyncio.wait_for(oldest.wait_closed(), 5)
        assert oldest.close_code == 4429
        for ws in (second, third):
            await ws.send(json.dumps({"type": "subscribe", "channel": "general"}))
            await next_frame(ws, lambda f: f["type"] == "subscribed")
