"""Two app hosts behind one router, on the shared PostgreSQL and Redis (`--only two-hosts`).

Each host is a network namespace of this machine (`ip netns`, a veth on one bridge) running the
production processes of docs/deploy.md: gunicorn, daphne and a `db_worker` per queue. In the
root namespace: the router of deploy/serve_prod.py (nginx's stand-in) over both hosts, round
robin, no stickiness; and a TCP forwarder from the bridge to Redis, which listens on 127.0.0.1
only. The hosts reach PostgreSQL through its Unix socket (the filesystem is shared). Neither
server is restarted or reconfigured (docs/decisions.md, "Two hosts on one machine").

What it proves, printed as rows:
- live events: an agent whose socket the router gave to host A sees presence, typing, a new
  inbound message and a ticket update made through host B (HTTP and WebSocket to B);
- sessions: a login through A is a session on B and through the router;
- a burst of 400 signed Twilio webhooks (20 senders x 20 messages) through the router, split
  over both hosts, while host B's realtime worker is SIGKILLed holding a task: exactly 20
  tickets and 400 messages once the workers drain, the dead worker's task run by another.

Needs root (namespaces). Everything started is stopped and the namespaces, veths and bridge are
removed on the way out, failure included. Bounded: every wait has a deadline.
"""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import requests
from twilio.request_validator import RequestValidator
from websockets.asyncio.client import connect

from bench.core import (
    BIN,
    PYTHON,
    ROOT,
    Database,
    Result,
    Sizes,
    django_env,
    free_port,
    gunicorn_cmd,
    last_json_line,
    manage,
    redis_url,
)
from bench.ingest import ACCOUNT_SID, AUTH_TOKEN, REAL_PATH, SHOP_NUMBER, sms_params
from deploy.serve_prod import worker_command

NAME = "two hosts"
BRIDGE, BRIDGE_ADDRESS, SUBNET_BITS = "pdth-br", "10.226.6.1", 24
HTTP_PORT, WS_PORT = 8001, 8010  # inside each host's namespace
REDIS_PORT = 6379  # the forwarder's, on the bridge address
PG_SOCKET_DIR = os.environ.get("BENCH_PG_SOCKET_DIR", "/var/run/postgresql")
QUEUES = ("realtime", "default", "bulk")
GUNICORN_WORKERS = 2  # per host: 4 in all on this 2-core machine
SENDERS, MESSAGES_PER_SENDER = 20, 20
POSTERS = 16  # concurrent webhook posts
KILL_AFTER_POSTED = 100
# The workers' heartbeat timeout (helpdesk/task_workers.py): the product's default is a minute;
# the bench shortens it so the recovery shows within its time bound.
HEARTBEAT_TIMEOUT_SECONDS = 10
DRAIN_SECONDS = 180  # 400 webhook tasks took 87-108 s at load average 10-15
STARTUP_SECONDS = 180  # per wait: Django processes starting on a machine at load average 15+
# deploy/systemd/printdesk-worker@.service has Restart=always: the killed worker comes back (as a
# new process with a new random id; the fixed ids here only name the bench's processes).
RESTART_DELAY_SECONDS = 1.0
FRAME_SECONDS = 15
PASSWORD = "two-hosts-bench-password-0123"


@dataclass
class Host:
    name: str
    namespace: str
    veth: str
    address: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def http(self) -> str:
        return f"http://{self.address}:{HTTP_PORT}"

    @property
    def ws(self) -> str:
        return f"ws://{self.address}:{WS_PORT}"

    def worker_id(self, queue: str) -> str:
        return f"two-hosts-{self.name}-{queue}"


def make_hosts() -> list[Host]:
    return [
        Host("A", "pdth-a", "pdth-a0", "10.226.6.2"),
        Host("B", "pdth-b", "pdth-b0", "10.226.6.3"),
    ]


def setup_commands(hosts: list[Host]) -> list[list[str]]:
    """`ip` commands that build the bridge and one namespace per host, joined by a veth pair."""
    commands = [
        ["ip", "link", "add", BRIDGE, "type", "bridge"],
        ["ip", "addr", "add", f"{BRIDGE_ADDRESS}/{SUBNET_BITS}", "dev", BRIDGE],
        ["ip", "link", "set", BRIDGE, "up"],
    ]
    for host in hosts:
        inside = host.veth[:-1] + "1"
        commands += [
            ["ip", "netns", "add", host.namespace],
            ["ip", "link", "add", host.veth, "type", "veth", "peer", "name", inside],
            ["ip", "link", "set", inside, "netns", host.namespace],
            ["ip", "link", "set", host.veth, "master", BRIDGE, "up"],
            *(
                ["ip", "netns", "exec", host.namespace, *command]
                for command in (
                    ["ip", "addr", "add", f"{host.address}/{SUBNET_BITS}", "dev", inside],
                    ["ip", "link", "set", inside, "up"],
                    ["ip", "link", "set", "lo", "up"],
                )
            ),
        ]
    return commands


def teardown(hosts: list[Host]) -> None:
    """Stop what still runs in the namespaces (only this benchmark's processes can be there),
    then remove them (their veth ends go with them) and the bridge. Safe to run twice."""
    for host in hosts:
        pids = subprocess.run(
            ["ip", "netns", "pids", host.namespace], capture_output=True, text=True
        ).stdout.split()
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", host.namespace], capture_output=True)
        subprocess.run(["ip", "link", "del", host.veth], capture_output=True)
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)


@contextmanager
def network(hosts: list[Host]) -> Iterator[None]:
    teardown(hosts)  # what a killed earlier run left behind
    try:
        for command in setup_commands(hosts):
            subprocess.run(command, check=True, capture_output=True, timeout=10)
        yield
    finally:
        teardown(hosts)


def socket_url(db: Database) -> str:
    """`db` reached through PostgreSQL's Unix socket: the same server, from any namespace."""
    parsed = urlparse(db.url)
    user = parsed.netloc.rpartition("@")[0]
    return f"postgres://{user}@{parsed.path}?host={PG_SOCKET_DIR}"


def redis_db_number() -> str:
    return urlparse(redis_url()).path.lstrip("/") or "0"


def fresh_database(db: Database, *, log) -> None:
    """`db` as a copy of a migrated template: exact counts need an empty inbox, and a copy takes
    a second where migrating takes a minute."""
    template = Database(db.url + "_template")
    template.create()
    manage(template, "migrate", "--noinput", "-v", "0")
    db.drop()
    import psycopg

    admin = db.url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db.name}" TEMPLATE "{template.name}"')
    log(f"  database {db.name} copied from {template.name}")


SETUP_USERS = """
import django
django.setup()
import json
from accounts.models import Role, User
from comms.models import Channel, ChannelMember
from django.contrib.auth.models import Group
agents = Group.objects.get(name=Role.AGENT)
general = Channel.objects.get(slug="general")
ids = {}
for name in ("agent-a", "agent-b"):
    user = User.objects.create_user(username=name, password=%r, display_name=name)
    user.groups.add(agents)
    ChannelMember.objects.get_or_create(channel=general, user=user)
    ids[name] = user.pk
print(json.dumps(ids))
"""


def spawn(host: Host, name: str, command: list[str], *, env: dict[str, str], logs: Path) -> None:
    """Start `command` inside `host`'s namespace, logging to `logs`."""
    log_file = (logs / f"{host.name}-{name}.log").open("wb")
    host.processes[name] = subprocess.Popen(
        ["ip", "netns", "exec", host.namespace, *command],
        env=env,
        cwd=ROOT,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )


def start_web(host: Host, *, env: dict[str, str], logs: Path) -> None:
    gunicorn = gunicorn_cmd(HTTP_PORT, workers=GUNICORN_WORKERS, host="0.0.0.0")  # noqa: S104
    spawn(host, "gunicorn", gunicorn, env=env, logs=logs)
    daphne = [str(BIN / "daphne"), "-b", "0.0.0.0", "-p", str(WS_PORT), APP]  # noqa: S104
    spawn(host, "daphne", daphne, env=env, logs=logs)


def start_workers(host: Host, *, env: dict[str, str], logs: Path) -> None:
    for queue in QUEUES:
        worker = [*worker_command(queue), "--worker-id", host.worker_id(queue)]
        spawn(host, f"worker-{queue}", worker, env=env, logs=logs)


def wait_for_heartbeats(db: Database, worker_ids: list[str], *, timeout: float) -> None:
    """Every worker has written its first heartbeat: it is up and about to claim tasks."""
    deadline = time.monotonic() + timeout
    while True:
        with db.connect() as conn:
            beating = {
                row[0]
                for row in conn.execute(
                    "SELECT worker_id FROM helpdesk_workerheartbeat WHERE worker_id = ANY(%s)",
                    [worker_ids],
                )
            }
        if beating == set(worker_ids):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"workers not up in {timeout:.0f}s: {set(worker_ids) - beating}")
        time.sleep(0.5)


APP = "helpdesk.asgi:application"


def stop_processes(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(url: str, *, headers: dict[str, str], timeout: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, headers=headers, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} not ready in {timeout:.0f}s")
        time.sleep(0.2)


def wait_listening(address: str, port: int, *, timeout: float = STARTUP_SECONDS) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((address, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{address}:{port} not listening in {timeout:.0f}s") from None
            time.sleep(0.2)


class Client:
    """HTTP to one host directly, as the router would forward it: the public Host header."""

    def __init__(self, base: str, public: str, sessionid: str | None = None) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Host"] = urlparse(public).netloc
        if sessionid:
            self.session.cookies.set("sessionid", sessionid)

    def login(self, username: str) -> str:
        self.session.get(f"{self.base}/accounts/login/", timeout=30).raise_for_status()
        response = self.session.post(
            f"{self.base}/accounts/login/",
            data={
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.session.cookies["csrftoken"],
            },
            allow_redirects=False,
            timeout=30,
        )
        if response.status_code != 302 or "sessionid" not in self.session.cookies:
            raise RuntimeError(f"login as {username} failed ({response.status_code})")
        return self.session.cookies["sessionid"]

    def get(self, path: str) -> requests.Response:
        return self.session.get(f"{self.base}{path}", allow_redirects=False, timeout=30)

    def patch_ticket(self, reference: str, data: dict) -> requests.Response:
        if "csrftoken" not in self.session.cookies:
            self.get("/accounts/login/")
        return self.session.patch(
            f"{self.base}/api/tickets/{reference}/",
            json=data,
            headers={"X-CSRFToken": self.session.cookies["csrftoken"]},
            timeout=30,
        )


def signed_sms(public: str, sid: str, sender: int, body: str) -> tuple[dict, str]:
    params = sms_params(sid, 0) | {"From": f"+1555{sender:07d}", "Body": body}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(public + REAL_PATH, params)
    return params, signature


def post_sms(base: str, public: str, params: dict, signature: str) -> int:
    return requests.post(
        base + REAL_PATH,
        data=params,
        headers={"X-Twilio-Signature": signature, "Host": urlparse(public).netloc},
        timeout=30,
    ).status_code


# Live events -------------------------------------------------------------------------------------


class Socket:
    """A staff socket whose frames are kept, so a test can wait for one that matches."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.frames: asyncio.Queue[tuple[float, dict]] = asyncio.Queue()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            await self.frames.put((time.perf_counter(), json.loads(raw)))

    async def send(self, frame: dict) -> None:
        await self.ws.send(json.dumps(frame))

    async def wait_for(self, matches: Callable[[dict], bool]) -> tuple[float, dict] | None:
        """The first frame from now on that `matches` (arrival time, frame), or None."""
        deadline = time.perf_counter() + FRAME_SECONDS
        while (left := deadline - time.perf_counter()) > 0:
            try:
                arrived, frame = await asyncio.wait_for(self.frames.get(), left)
            except TimeoutError:
                return None
            if matches(frame):
                return arrived, frame
        return None

    async def close(self) -> None:
        self.reader.cancel()
        await self.ws.close()


async def open_socket(url: str, sessionid: str, origin: str) -> Socket:
    ws = await connect(url, origin=origin, additional_headers={"Cookie": f"sessionid={sessionid}"})
    return Socket(ws)


@dataclass
class LiveOutcome:
    latencies_ms: dict[str, float | None]
    agent_socket: tuple[str, int]  # the socket's local address, to find its route


async def live_events(
    *, public: str, host_b: Host, session_a: str, client_b: Client, user_b: int
) -> LiveOutcome:
    """Agent A (socket through the router) sees what agent B does through host B."""
    origin = public
    agent = await open_socket(f"ws://{urlparse(public).netloc}/ws/staff/", session_a, origin)
    local = agent.ws.local_address[:2]
    latencies: dict[str, float | None] = {}

    def from_b(frame: dict) -> bool:
        return frame.get("user", {}).get("id") == user_b

    try:
        await agent.send({"type": "subscribe", "channel": "general"})
        await agent.wait_for(lambda f: f.get("type") == "subscribed")
        started = time.perf_counter()
        other = await open_socket(
            f"{host_b.ws}/ws/staff/", client_b.session.cookies["sessionid"], origin
        )
        try:
            seen = await agent.wait_for(lambda f: f.get("type") == "presence" and from_b(f))
            latencies["presence (B connects)"] = _ms(seen, started)
            await other.send({"type": "subscribe", "channel": "general"})
            await other.wait_for(lambda f: f.get("type") == "subscribed")
            started = time.perf_counter()
            await other.send({"type": "presence", "status": "busy"})
            seen = await agent.wait_for(
                lambda f: f.get("type") == "presence" and from_b(f) and f.get("status") == "busy"
            )
            latencies["presence busy"] = _ms(seen, started)
            started = time.perf_counter()
            await other.send({"type": "typing", "channel": "general", "is_typing": True})
            seen = await agent.wait_for(lambda f: f.get("type") == "typing" and from_b(f))
            latencies["typing"] = _ms(seen, started)
        finally:
            await other.close()
        params, signature = signed_sms(
            public, f"SMlive{uuid.uuid4().hex[:24]}", 999, "Is my banner printed yet?"
        )
        started = time.perf_counter()
        status = await asyncio.to_thread(post_sms, host_b.http, public, params, signature)
        if status != 200:
            raise RuntimeError(f"inbound webhook to host B answered {status}")
        seen = await agent.wait_for(lambda f: f.get("type") == "ticket.updated")
        latencies["new inbound message"] = _ms(seen, started)
        if seen is not None:
            reference = seen[1]["ticket"]["reference"]
            started = time.perf_counter()
            response = await asyncio.to_thread(
                client_b.patch_ticket, reference, {"status": "pending", "assignee": user_b}
            )
            if response.status_code != 200:
                raise RuntimeError(f"PATCH through host B answered {response.status_code}")
            seen = await agent.wait_for(
                lambda f: (
                    f.get("type") == "ticket.updated"
                    and f["ticket"]["reference"] == reference
                    and f["ticket"]["status"] == "pending"
                    and f["ticket"]["assignee_id"] == user_b
                )
            )
            latencies["ticket assigned + status"] = _ms(seen, started)
        else:
            latencies["ticket assigned + status"] = None
    finally:
        await agent.close()
    return LiveOutcome(latencies, local)


def _ms(seen: tuple[float, dict] | None, started: float) -> float | None:
    return None if seen is None else (seen[0] - started) * 1000


# The burst ---------------------------------------------------------------------------------------


@dataclass
class Burst:
    tag: str
    statuses: Counter = field(default_factory=Counter)
    orphaned_task_ids: list[str] = field(default_factory=list)
    killed_at: float | None = None
    recovered_seconds: float | None = None
    recovered_by: list[str] = field(default_factory=list)
    drained_seconds: float | None = None


def burst_bodies(public: str, tag: str) -> list[tuple[dict, str]]:
    """SENDERS x MESSAGES_PER_SENDER signed bodies, interleaved: every sender's first message
    comes in the first wave, so two hosts race to open each sender's ticket."""
    return [
        signed_sms(
            public,
            f"SM{tag}{sender:03d}{k:03d}",
            sender,
            f"Message {k + 1} from sender {sender}: a question about my flyers.",
        )
        for k in range(MESSAGES_PER_SENDER)
        for sender in range(SENDERS)
    ]


def running_tasks_of(db: Database, worker_id: str) -> list[str]:
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT id, worker_ids FROM django_tasks_database_dbtaskresult WHERE status = 'RUNNING'"
        ).fetchall()
    return [str(task_id) for task_id, workers in rows if workers and workers[-1] == worker_id]


def kill_while_running_a_task(process: subprocess.Popen, db: Database, worker_id: str) -> list:
    """SIGKILL `process` while it holds a claimed task: freeze it, look, kill or thaw, repeat.
    Returns the ids of the tasks it held (empty if it never held one within the time)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        process.send_signal(signal.SIGSTOP)
        held = running_tasks_of(db, worker_id)
        if held:
            process.kill()
            process.wait()
            return held
        process.send_signal(signal.SIGCONT)
        time.sleep(0.02)
    process.kill()
    process.wait()
    return []


def run_burst(
    *,
    public: str,
    db: Database,
    victim: subprocess.Popen,
    worker_id: str,
    restart: Callable[[], None],
    log,
) -> Burst:
    burst = Burst(tag=uuid.uuid4().hex[:10])
    bodies = burst_bodies(public, burst.tag)
    posted = Counter()

    def post(body: tuple[dict, str]) -> int:
        status = post_sms(public, public, *body)
        posted["done"] += 1
        return status

    with ThreadPoolExecutor(max_workers=POSTERS) as pool:
        futures = [pool.submit(post, body) for body in bodies]
        while posted["done"] < KILL_AFTER_POSTED and not all(f.done() for f in futures):
            time.sleep(0.01)
        burst.orphaned_task_ids = kill_while_running_a_task(victim, db, worker_id)
        burst.killed_at = time.monotonic()
        time.sleep(RESTART_DELAY_SECONDS)
        restart()
        log(
            f"  SIGKILL host B's realtime worker after {posted['done']} posts, holding "
            f"{len(burst.orphaned_task_ids)} task(s) {burst.orphaned_task_ids}; restarted "
            f"{RESTART_DELAY_SECONDS:g}s later under a new id, as its systemd unit would"
        )
        for future in futures:
            burst.statuses[future.result()] += 1
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        if burst.recovered_seconds is None and burst.orphaned_task_ids:
            done = tasks_finished(db, burst.orphaned_task_ids)
            if len(done) == len(burst.orphaned_task_ids):
                burst.recovered_seconds = time.monotonic() - burst.killed_at
                burst.recovered_by = sorted(set(done.values()))
        if unprocessed(db, burst.tag) == 0 and (
            burst.recovered_seconds is not None or not burst.orphaned_task_ids
        ):
            burst.drained_seconds = time.monotonic() - burst.killed_at
            break
        time.sleep(0.5)
    return burst


def tasks_finished(db: Database, task_ids: list[str]) -> dict[str, str]:
    """task id -> the worker that finished it, for those of `task_ids` that finished."""
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT id, worker_ids FROM django_tasks_database_dbtaskresult "
            "WHERE id = ANY(%s::uuid[]) AND status IN ('SUCCESSFUL', 'FAILED')",
            [task_ids],
        ).fetchall()
    return {str(task_id): workers[-1] for task_id, workers in rows}


def unprocessed(db: Database, tag: str) -> int:
    return int(
        db.scalar(
            "SELECT %s - count(*) FROM integrations_webhookevent "
            "WHERE provider = 'twilio' AND event_id LIKE %s AND status = 'processed'",
            [SENDERS * MESSAGES_PER_SENDER, f"SM{tag}%"],
        )
    )


def burst_counts(db: Database, tag: str) -> dict[str, int]:
    like = f"SM{tag}%"
    return {
        "events": int(
            db.scalar(
                "SELECT count(*) FROM integrations_webhookevent WHERE event_id LIKE %s", [like]
            )
        ),
        "messages": int(
            db.scalar(
                "SELECT count(*) FROM tickets_ticketmessage WHERE provider_message_id LIKE %s",
                [like],
            )
        ),
        # Every ticket of every customer who wrote in the burst: a duplicate would show here.
        "tickets": int(
            db.scalar(
                "SELECT count(*) FROM tickets_ticket WHERE customer_id IN ("
                " SELECT t.customer_id FROM tickets_ticketmessage m"
                " JOIN tickets_ticket t ON t.id = m.ticket_id"
                " WHERE m.provider_message_id LIKE %s)",
                [like],
            )
        ),
    }


# The run -----------------------------------------------------------------------------------------


def routes(router_log: Path) -> tuple[dict[tuple[str, int], str], Counter]:
    """The router's decisions: client address -> upstream, and connections per upstream."""
    by_client, per_upstream = {}, Counter()
    for line in router_log.read_text().splitlines():
        if line.startswith("route "):
            _, client, upstream = line.split()
            host, _, port = client.rpartition(":")
            by_client[(host, int(port))] = upstream
            per_upstream[upstream] += 1
    return by_client, per_upstream


def not_run(reason: str) -> list[Result]:
    return [Result(NAME, "not run", "cross-host events, burst exact, 0 lost", None, reason)]


def run(sizes: Sizes, dbs: dict[str, Database], *, log) -> list[Result]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return not_run("needs root and iproute2 (network namespaces)")
    db = dbs.get("two_hosts")
    if db is None or not db.is_postgres:
        return not_run("needs PostgreSQL (BENCH_DATABASE_URL)")
    fresh_database(db, log=log)
    hosts = make_hosts()
    public = f"http://127.0.0.1:{free_port()}"
    env = django_env(
        Database(socket_url(db)),
        REDIS_URL=f"redis://{BRIDGE_ADDRESS}:{REDIS_PORT}/{redis_db_number()}",
        BENCH_LAYER_PREFIX=f"twohosts{uuid.uuid4().hex[:8]}",
        PUBLIC_BASE_URL=public,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_SMS_FROM=SHOP_NUMBER,
        WORKER_HEARTBEAT_TIMEOUT_SECONDS=str(HEARTBEAT_TIMEOUT_SECONDS),
        TRUSTED_PROXY_COUNT="0",
    )
    users = last_json_line(
        subprocess.run(
            [PYTHON, "-c", SETUP_USERS % PASSWORD],
            env=django_env(db),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
    )
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="two-hosts-") as tmp:
        logs = Path(tmp)
        stack.enter_context(network(hosts))
        started: list[subprocess.Popen] = []
        stack.callback(
            lambda: stop_processes(
                started + [process for host in hosts for process in host.processes.values()]
            )
        )
        forward_env = {**os.environ, "PYTHONPATH": str(ROOT)}
        started.append(
            subprocess.Popen(
                [
                    PYTHON,
                    "-m",
                    "bench.forward",
                    "tcp",
                    f"{BRIDGE_ADDRESS}:{REDIS_PORT}",
                    urlparse(redis_url()).netloc,
                ],
                cwd=ROOT,
                env=forward_env,
                stdout=(logs / "redis-forward.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
        router_log = logs / "router.log"
        started.append(
            subprocess.Popen(
                [
                    PYTHON,
                    "-m",
                    "bench.forward",
                    "router",
                    urlparse(public).netloc,
                    "--http",
                    ",".join(f"{h.address}:{HTTP_PORT}" for h in hosts),
                    "--ws",
                    ",".join(f"{h.address}:{WS_PORT}" for h in hosts),
                ],
                cwd=ROOT,
                env=forward_env,
                stdout=router_log.open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
        wait_listening(BRIDGE_ADDRESS, REDIS_PORT)
        # Web processes first, workers once they answer: a dozen Django processes importing at
        # once on a loaded 2-core machine take minutes to come up.
        for host in hosts:
            start_web(host, env=env, logs=logs)
        try:
            for host in hosts:
                wait_ready(f"{host.http}/healthz", headers={"Host": urlparse(public).netloc})
                wait_listening(host.address, WS_PORT)
            for host in hosts:
                start_workers(host, env=env, logs=logs)
            wait_for_heartbeats(
                db,
                [host.worker_id(queue) for host in hosts for queue in QUEUES],
                timeout=STARTUP_SECONDS,
            )
            log(f"  hosts up: A {hosts[0].address}, B {hosts[1].address}; router {public}")
            return measure(
                public=public, hosts=hosts, db=db, users=users, env=env, logs=logs, log=log
            )
        except (RuntimeError, OSError, requests.RequestException) as exc:
            for path in sorted(logs.glob("*.log")):
                log(f"  --- {path.name} (tail)\n{path.read_text(errors='replace')[-1500:]}")
            raise RuntimeError(f"two hosts: {exc}") from exc


def measure(
    *,
    public: str,
    hosts: list[Host],
    db: Database,
    users: dict,
    env: dict[str, str],
    logs: Path,
    log,
) -> list[Result]:
    host_a, host_b = hosts
    results = []

    # Sessions: log in through A, use the cookie on B and through the router (round robin).
    client_a = Client(host_a.http, public)
    session_a = client_a.login("agent-a")
    on_b = Client(host_b.http, public, session_a).get("/tickets/").status_code
    via_router = [Client(public, public, session_a).get("/tickets/").status_code for _ in range(10)]
    ok_router = sum(status == 200 for status in via_router)
    log(f"  session from A: GET /tickets/ on B {on_b}; through the router {via_router}")
    results.append(
        Result(
            f"{NAME}: session made on A",
            f"B answers {on_b}; router {ok_router}/10 answered 200",
            "200 on both hosts, no sticky sessions",
            on_b == 200 and ok_router == 10,
            "login form through A, cookie sent to B and round robin",
        )
    )

    # Live events: agent A's socket through the router; agent B acts through host B.
    client_b = Client(host_b.http, public)
    client_b.login("agent-b")
    live = asyncio.run(
        live_events(
            public=public,
            host_b=host_b,
            session_a=session_a,
            client_b=client_b,
            user_b=users["agent-b"],
        )
    )
    by_client, _ = routes(logs / "router.log")
    agent_host = by_client.get(live.agent_socket, "?")
    served_by_a = agent_host == f"{host_a.address}:{WS_PORT}"
    seen = {name: ms for name, ms in live.latencies_ms.items() if ms is not None}
    log(f"  agent socket routed to {agent_host}; frames seen: {live.latencies_ms}")
    results.append(
        Result(
            f"{NAME}: agent on A sees B's actions",
            ", ".join(f"{name} {ms:.0f} ms" for name, ms in seen.items()) or "nothing seen",
            "presence, typing, inbound message, ticket update",
            served_by_a and len(seen) == len(live.latencies_ms),
            f"agent socket on {agent_host} (A); missing: "
            + (", ".join(n for n, ms in live.latencies_ms.items() if ms is None) or "none"),
        )
    )

    # The burst, with host B's realtime worker killed while it holds a task.
    before = Counter(routes(logs / "router.log")[1])
    burst = run_burst(
        public=public,
        db=db,
        victim=host_b.processes["worker-realtime"],
        worker_id=host_b.worker_id("realtime"),
        restart=lambda: spawn(
            host_b,
            "worker-realtime-restarted",
            [*worker_command("realtime"), "--worker-id", host_b.worker_id("realtime") + "-2"],
            env=env,
            logs=logs,
        ),
        log=log,
    )
    split = routes(logs / "router.log")[1] - before
    counts = burst_counts(db, burst.tag)
    expected = SENDERS * MESSAGES_PER_SENDER
    accepted = burst.statuses.get(200, 0)
    log(f"  burst: answers {dict(burst.statuses)}; per upstream {dict(split)}; counts {counts}")
    per_host = " / ".join(
        f"{host.name} {split.get(f'{host.address}:{HTTP_PORT}', 0)}" for host in hosts
    )
    results.append(
        Result(
            f"{NAME}: {expected} webhooks, {SENDERS} senders",
            f"{counts['tickets']} tickets / {counts['messages']} messages",
            f"exactly {SENDERS} / {expected}",
            counts["tickets"] == SENDERS
            and counts["messages"] == expected
            and accepted == expected,
            f"posts {per_host}; {accepted} answered 200; drained "
            + (f"{burst.drained_seconds:.1f}s after the kill" if burst.drained_seconds else "NOT"),
        )
    )
    held = len(burst.orphaned_task_ids)
    requeued_by = [
        path.stem
        for path in sorted(logs.glob("*worker*.log"))
        if "task.orphan_requeued" in path.read_text(errors="replace")
    ]
    recovered = (
        f"requeued by {', '.join(requeued_by) or '?'}, run by {', '.join(burst.recovered_by)} "
        f"{burst.recovered_seconds:.1f}s after the kill"
        if burst.recovered_seconds is not None
        else "never run"
    )
    results.append(
        Result(
            f"{NAME}: B's realtime worker SIGKILLed mid-task",
            f"{held} claimed task(s) {recovered if held else 'none held at the kill'}",
            "0 lost",
            held > 0 and burst.recovered_seconds is not None and counts["messages"] == expected,
            f"heartbeat timeout {HEARTBEAT_TIMEOUT_SECONDS}s (product default 60s)",
        )
    )
    return results
