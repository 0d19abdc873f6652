"""Realtime fan-out: typing frames to every socket, the staff consumer vs a minimal relay.

Topology (DESIGN.md): 2 daphne processes, `RedisPubSubChannelLayer`; clients alternate between
them. The load generator (`bench.ws_load`) is another process. Both consumers are measured in the
same run on the same daphnes: relay first, then staff, per repeat.
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
    redis_available,
    redis_url,
    server,
)

NAME = "realtime fan-out"
PROCESSES = 2
GOAL = "p99 ≤ 1.25x relay p99, 0 lost"


def load(config: dict, sizes: Sizes) -> dict:
    done = subprocess.run(
        [PYTHON, "-m", "bench.ws_load", json.dumps(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60 + sizes.ws_frames / sizes.ws_rate,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ws_load failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def run(sizes: Sizes, dbs: dict[str, Database], *, log) -> list[Result]:
    if not redis_available():
        return [Result(NAME, "not run", GOAL, None, f"Redis not reachable at {redis_url()}")]
    db = dbs["realtime"]
    migrate(db)
    env = django_env(db, BENCH_LAYER_PREFIX=f"bench{uuid.uuid4().hex[:8]}")
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
    ports = [free_port() for _ in range(PROCESSES)]
    origin = f"http://127.0.0.1:{ports[0]}"
    relay_p99, staff_p99, ratios, lost = [], [], [], {"relay": 0, "staff": 0}
    with ExitStack() as stack:
        for port in ports:
            daphne = [
                str(BIN / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "bench.asgi:application",
            ]
            stack.enter_context(server(daphne, env=env, port=port))
        for repeat in range(sizes.repeats):
            for kind in ("relay", "staff"):
                path = "/ws/relay/" if kind == "relay" else "/ws/staff/"
                config = {
                    "urls": [
                        f"ws://127.0.0.1:{ports[i % PROCESSES]}{path}"
                        for i in range(sizes.ws_clients)
                    ],
                    "cookies": cookies if kind == "staff" else None,
                    "origin": origin,
                    "subscribe": {"type": "subscribe", "channel": "general"}
                    if kind == "staff"
                    else None,
                    "typing": {"type": "typing", "channel": "general"},
                    "frames": sizes.ws_frames,
                    "rate": sizes.ws_rate,
                    "settle": sizes.settle,
                }
                outcome = load(config, sizes)
                lat = outcome["latencies_ms"]
                p50 = percentile(lat, 50) if lat else float("nan")
                p99 = percentile(lat, 99) if lat else float("nan")
                lost[kind] += outcome["lost"]
                (relay_p99 if kind == "relay" else staff_p99).append(p99)
                log(
                    f"  {kind} #{repeat + 1}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                    f"lost {outcome['lost']} of {sizes.ws_frames} x {outcome['receivers']}"
                )
            ratios.append(staff_p99[-1] / relay_p99[-1])
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
    ]
