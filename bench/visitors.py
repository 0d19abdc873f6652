"""Web-chat visitors: an agent's reply reaching its visitor's widget socket, 1,000 visitors.

Same topology as the staff fan-out (bench.realtime: 2 daphne, `RedisPubSubChannelLayer`), same
run, alternating per repeat: the minimal relay first (`/ws/relay/?group=…`, one group per socket),
then `/ws/widget/` (origin check, token `auth`, and per reply the socket loads the message from
the database as its visitor may see it). Method: bench/README.md, "Visitors".
"""

import json
import subprocess
import uuid
from contextlib import ExitStack

from bench.core import (
    PYTHON,
    ROOT,
    Database,
    Result,
    Sizes,
    django_env,
    last_json_line,
    median,
    migrate,
    percentile,
    redis_available,
    redis_url,
)
from bench.realtime import PROCESSES, start_daphnes
from bench.relay import relay_group
from core.realtime import widget_ticket_group

NAME = "web chat visitors"
GOAL = "p99 ≤ 1.25x relay p99, 0 lost"
# Every visitor comes from 127.0.0.1 here; in production each has an address of its own.
ENV = {"WEBCHAT_IP_RATE": "1000000/minute"}


def visitors(db: Database, count: int) -> dict:
    """The bench inbox's visitors, each with a conversation and an agent's reply."""
    # Nothing listens while they are made: the in-memory layer spares a Redis round trip per
    # live frame the setup's writes publish.
    env = django_env(db, **ENV)
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [PYTHON, "-m", "bench.visitor_setup", str(count)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if done.returncode != 0:
        raise RuntimeError(f"visitor_setup failed:\n{done.stderr[-2000:]}")
    return last_json_line(done.stdout)


def load(config: dict, sizes: Sizes) -> dict:
    done = subprocess.run(
        [PYTHON, "-m", "bench.visitor_load"],
        input=json.dumps(config),  # 1,000 tokens or cookies pass the 128 KB limit of one argument
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180 + sizes.visitors / sizes.visitor_rate,
    )
    if done.returncode != 0:
        raise RuntimeError(f"visitor_load failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def run(sizes: Sizes, dbs: dict[str, Database], *, log) -> list[Result]:
    if not redis_available():
        return [Result(NAME, "not run", GOAL, None, f"Redis not reachable at {redis_url()}")]
    db = dbs["realtime"]
    migrate(db)
    made = visitors(db, sizes.visitors)
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    env = django_env(db, BENCH_LAYER_PREFIX=prefix, **ENV)
    p99s, ratios, lost = {"relay": [], "widget": []}, [], {"relay": 0, "widget": 0}
    with ExitStack() as stack:
        ports = start_daphnes(stack, env)
        for repeat in range(sizes.repeats):
            for kind in ("relay", "widget"):
                config = {
                    "origin": made["origin"],
                    "redis": redis_url(),
                    "prefix": prefix,
                    "rate": sizes.visitor_rate,
                }
                socket_url = [f"ws://127.0.0.1:{ports[i % PROCESSES]}" for i in range(PROCESSES)]
                if kind == "relay":
                    config["urls"] = [
                        f"{socket_url[i % PROCESSES]}/ws/relay/?group=v{i}"
                        for i in range(len(made["visitors"]))
                    ]
                    config["tokens"] = None
                    config["events"] = [
                        {
                            "group": relay_group(f"v{i}"),
                            "event": {
                                "type": "relay.frame",
                                "frame": {"type": "message", "message": {"id": v["reply"]}},
                            },
                            "id": v["reply"],
                        }
                        for i, v in enumerate(made["visitors"])
                    ]
                else:
                    config["urls"] = [
                        f"{socket_url[i % PROCESSES]}/ws/widget/?inbox={made['inbox']}"
                        for i in range(len(made["visitors"]))
                    ]
                    config["tokens"] = [v["token"] for v in made["visitors"]]
                    # What WebChatClient.send publishes for an agent's reply.
                    config["events"] = [
                        {
                            "group": widget_ticket_group(v["ticket"]),
                            "event": {"type": "widget.delivery", "message_id": v["reply"]},
                            "id": v["reply"],
                        }
                        for v in made["visitors"]
                    ]
                outcome = load(config, sizes)
                lat = outcome["latencies_ms"]
                p50 = percentile(lat, 50) if lat else float("nan")
                p99 = percentile(lat, 99) if lat else float("nan")
                lost[kind] += outcome["lost"]
                p99s[kind].append(p99)
                log(
                    f"  {kind} #{repeat + 1}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, lost "
                    f"{outcome['lost']} of {outcome['visitors']}; connected in "
                    f"{outcome['connect_s']:.1f}s ({outcome['retries']} retried)"
                )
            ratios.append(p99s["widget"][-1] / p99s["relay"][-1])
    topology = (
        f"{len(made['visitors']):,} visitors, {PROCESSES} daphne, "
        f"{sizes.visitor_rate:g} replies/s, one each"
    )
    ratio = median(ratios)
    return [
        Result(
            f"{NAME}: minimal relay",
            f"p99 {median(p99s['relay']):.0f} ms, lost {lost['relay']}",
            "reference",
            None,
            topology,
        ),
        Result(
            f"{NAME}: reply → /ws/widget/",
            f"p99 {median(p99s['widget']):.0f} ms = {ratio:.2f}x relay, lost {lost['widget']}",
            GOAL,
            ratio <= 1.25 and lost["widget"] == 0,
            topology,
        ),
    ]
