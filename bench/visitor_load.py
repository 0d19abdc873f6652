"""`python -m bench.visitor_load < CONFIG_JSON`: the web-chat visitor load generator (own process).

Config: {"urls": [...one per visitor...], "origin": "...", "tokens": [... or null],
"events": [{"group": ..., "event": {...}, "id": n}, ...one per visitor...], "redis": url,
"prefix": layer prefix, "rate": replies per second}.

Every visitor opens its socket (CONNECT_AT_ONCE handshakes in flight, a dropped one retried after
a backoff, as static/js/widget.js reconnects) and, with `tokens`, authenticates with its widget
token until `ready`. Then the replies are published on the channel layer, in random order at
`rate` per second, exactly as a worker delivering an agent's reply does
(`integrations.webchat.client.WebChatClient.send`: `group_send` to the ticket's widget group).
A reply's latency is publish → its `message` frame (matched by `id`) at its visitor; a reply not
there once arrivals stopped for STALL seconds is lost.
Prints {"latencies_ms": [...], "lost": n, "visitors": n, "connect_s": s, "retries": n}.
"""

import asyncio
import json
import random
import sys
import time
from functools import partial

from channels_redis.pubsub import RedisPubSubChannelLayer
from websockets.asyncio.client import connect

from bench.core import raise_open_files_limit
from bench.ws_load import open_with_retries

CONNECT_AT_ONCE = 20
STALL = 3.0
GRACE_CAP = 10.0


class Visitor:
    def __init__(self, ws, reply_id: int) -> None:
        self.ws = ws
        self.reply_id = reply_id
        self.arrived_at: float | None = None

    async def listen(self) -> None:
        async for raw in self.ws:
            frame = json.loads(raw)
            if frame.get("type") == "message" and frame["message"].get("id") == self.reply_id:
                self.arrived_at = time.perf_counter()


async def open_visitor(url: str, origin: str, token: str | None):
    ws = await connect(url, origin=origin, max_queue=None)
    if token is not None:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        while (frame := json.loads(await ws.recv())).get("type") != "ready":
            if frame.get("type") == "error":
                raise RuntimeError(f"auth refused: {frame}")
    return ws


async def open_all(config: dict) -> tuple[list, int]:
    tokens = config.get("tokens") or [None] * len(config["urls"])
    return await open_with_retries(
        [
            partial(open_visitor, url, config["origin"], token)
            for url, token in zip(config["urls"], tokens, strict=True)
        ],
        at_once=CONNECT_AT_ONCE,
    )


async def run(config: dict) -> dict:
    raise_open_files_limit()
    started = time.perf_counter()
    sockets, retries = await open_all(config)
    connect_s = time.perf_counter() - started
    events = config["events"]
    visitors = [Visitor(ws, e["id"]) for ws, e in zip(sockets, events, strict=True)]
    listeners = [asyncio.create_task(v.listen()) for v in visitors]
    layer = RedisPubSubChannelLayer(hosts=[config["redis"]], prefix=config["prefix"])

    order = list(range(len(visitors)))
    random.shuffle(order)
    sent_at: dict[int, float] = {}
    interval, start = 1.0 / config["rate"], time.perf_counter()
    for k, i in enumerate(order):
        await asyncio.sleep(max(0.0, start + k * interval - time.perf_counter()))
        sent_at[i] = time.perf_counter()
        await layer.group_send(events[i]["group"], events[i]["event"])
    deadline, last_count = time.perf_counter() + GRACE_CAP, -1
    stalled_since = time.perf_counter()
    while time.perf_counter() < deadline:
        count = sum(v.arrived_at is not None for v in visitors)
        if count == len(visitors):
            break
        if count != last_count:
            last_count, stalled_since = count, time.perf_counter()
        elif time.perf_counter() - stalled_since > STALL:
            break
        await asyncio.sleep(0.05)

    latencies = [(v.arrived_at - sent_at[i]) * 1000 for i, v in enumerate(visitors) if v.arrived_at]
    for task in listeners:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    await layer.flush()
    return {
        "latencies_ms": latencies,
        "lost": len(visitors) - len(latencies),
        "visitors": len(visitors),
        "connect_s": round(connect_s, 2),
        "retries": retries,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(json.load(sys.stdin)))))
