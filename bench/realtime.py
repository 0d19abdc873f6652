"""Realtime fan-out: typing frames to every socket, the staff consumer vs a minimal relay.

Topology (DESIGN.md): 2 daphne processes, `RedisPubSubChannelLayer`; clients alternate between
them. The load generator (`bench.ws_load`) is another process. Both consumers are measured in the
same run on the same daphnes, both socket sets open: relay first, then staff, per repeat.
"""

import json
import subprocess
import uuid
from contextlib import ExitStack

from bench.core import (
    BIN,
    PYTHON,
    ROOT,
    Database,
    Result,
    Sizes,
    django_env,
    free_port,
    last_json_line,
    median,
    migrate,
    percentile,
    raise_open_files_limit,
    redis_available,
    redis_url,
    server,
)

NAME = "realtime fan-out"
PROCESSES = 2
GOAL = "p99 ≤ 1.25x relay p99, 0 lost"
PAGE_LOAD_GOAL = "a page load sends no presence frame"


def load(config: dict, sizes: Sizes) -> dict:
    done = subprocess.run(
        [PYTHON, "-m", "bench.ws_load"],
        input=json.dumps(config),  # 1,000 tokens or cookies pass the 128 KB limit of one argument
        cwd=ROOT,
        capture_output=True,
        text=True,
        # Connecting 1,000 staff sockets and the presence frames it sends take minutes when loaded.
        timeout=1200 + 2 * sizes.repeats * (sizes.ws_frames / sizes.ws_rate + 15),
    )
    if done.returncode != 0:
        raise RuntimeError(f"ws_load failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def start_daphnes(stack: ExitStack, env: dict[str, str]) -> list[int]:
    """PROCESSES daphnes serving bench.asgi (the production stack plus the relay); their ports."""
    raise_open_files_limit()  # inherited by the servers: each holds half the sockets
    ports = [free_port() for _ in range(PROCESSES)]
    for port in ports:
        daphne = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "bench.asgi:application"]
        stack.enter_context(server(daphne, env=env, port=port))
    return ports


def run(sizes: Sizes, dbs: dict[str, Database], *, log) -> list[Result]:
    if not redis_available():
        return [Result(NAME, "not run", GOAL, None, f"Redis not reachable at {redis_url()}")]
    db = dbs["realtime"]
    migrate(db)
    env = django_env(
        db,
        BENCH_LAYER_PREFIX=f"bench{uuid.uuid4().hex[:8]}",
        # One sender stands for a team typing: the per-socket abuse limit (5/s, burst 5; tested in
        # comms/tests/test_socket_limits.py) would drop most of its frames and count them lost.
        STAFF_SOCKET_TYPING_PER_SECOND="1000",
    )
    sessions = subprocess.run(
        [PYTHON, "-m", "bench.ws_setup", str(sizes.ws_clients)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    cookies = last_json_line(sessions.stdout)
    with ExitStack() as stack:
        ports = start_daphnes(stack, env)
        origin = f"http://127.0.0.1:{ports[0]}"

        def side(path: str, **extra) -> dict:
            urls = [f"ws://127.0.0.1:{ports[i % PROCESSES]}{path}" for i in range(sizes.ws_clients)]
            return {"urls": urls, "origin": origin, **extra}

        typing = {"type": "typing", "channel": "general"}
        outcome = load(
            {
                "sides": {
                    "relay": side("/ws/relay/", typing=typing),
                    "staff": side(
                        "/ws/staff/",
                        typing=typing,
                        cookies=cookies,
                        subscribe={"type": "subscribe", "channel": "general"},
                        page_load=True,
                    ),
                },
                "frames": sizes.ws_frames,
                "rate": sizes.ws_rate,
                "settle": sizes.settle,
                "repeats": sizes.repeats,
            },
            sizes,
        )
    p99s, lost = {}, {}
    for kind, report in outcome.items():
        log(
            f"  {kind}: connected in {report['connect_s']:.1f}s ({report['retries']} retried), "
            f"{report['presence_frames']:,} presence frames, quiet after "
            f"{report['quiet_after_s']:.1f}s"
        )
        p99s[kind], lost[kind] = [], 0
        for repeat, measured in enumerate(report["runs"]):
            lat = measured["latencies_ms"]
            p50 = percentile(lat, 50) if lat else float("nan")
            p99 = percentile(lat, 99) if lat else float("nan")
            p99s[kind].append(p99)
            lost[kind] += measured["lost"]
            log(
                f"  {kind} #{repeat + 1}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                f"lost {measured['lost']} of {sizes.ws_frames} x {report['receivers']}"
            )
    ratios = [s / r for s, r in zip(p99s["staff"], p99s["relay"], strict=True)]
    relay_p99, staff_p99, storm = p99s["relay"], p99s["staff"], outcome["staff"]
    page_load = storm["page_load_presence_frames"]
    topology = f"{sizes.ws_clients} sockets, {PROCESSES} daphne, {sizes.ws_rate:g} frames/s"
    ratio = median(ratios)
    return [
        Result(
            f"{NAME}: minimal relay",
            f"p99 {median(relay_p99):.0f} ms, lost {lost['relay']}",
            "reference",
            None,
            topology,
        ),
        Result(
            f"{NAME}: /ws/staff/ typing",
            f"p99 {median(staff_p99):.0f} ms = {ratio:.2f}x relay, lost {lost['staff']}",
            GOAL,
            ratio <= 1.25 and lost["staff"] == 0,
            topology,
        ),
        Result(
            f"{NAME}: /ws/staff/ presence",
            f"{sizes.ws_clients:,} connects: {storm['presence_frames']:,} presence frames, "
            f"quiet after {storm['quiet_after_s']:.0f}s; a page load: {page_load} frames",
            PAGE_LOAD_GOAL,
            page_load == 0,
            f"connects {storm['connect_s']:.0f}s, {storm['retries']} retried; "
            "n connects from nobody online are n(n-1)/2 frames (one per user per open socket)",
        ),
    ]
