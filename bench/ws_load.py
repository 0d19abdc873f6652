"""`python -m bench.ws_load < CONFIG_JSON`: the fan-out load generator (its own process).

Config: {"sides": {name: {"urls": [...one per client...], "cookies": [... or null], "origin":
"...", "subscribe": frame or null, "typing": frame, "page_load": bool}, ...}, "frames": N,
"rate": per second, "settle": seconds, "repeats": R}.

Each side (the relay's sockets, the staff's) is connected once, then the sides are measured in
turn, R times, so a ratio compares them in the same minute and the staff's connect storm is paid
once per run:
1. Connect, CONNECT_AT_ONCE handshakes in flight at most: daphne drops a socket its application
   has not accepted within 5 s, and a staff connect is a few queries plus a presence broadcast,
   so 1,000 at once would mostly time out. A dropped handshake is retried after a backoff, as
   static/js/realtime.js does (counted in `retries`).
2. Warm-up: typing frames until every receiver has one (every subscription is live), then wait
   until every socket has been quiet for `settle` seconds (SETTLE_CAP at most): connecting n
   staff sockets announces each user online to every socket already open (`presence_frames`).
3. With `page_load`, client 0 closes its socket and opens a new one, as a page load does;
   `page_load_presence_frames` is what the others receive in the next PAGE_LOAD_WATCH seconds.
4. Per repeat: client 0 sends typing frames (is_typing alternating, ending false so no expiry
   frame follows); every other client records when its k-th typing frame arrives. Frames are
   matched by order (the layer keeps per-sender order), so frame k's latency is the time until
   the last receiver has it; a receiver still short of N frames once arrivals stopped for STALL
   seconds lost the rest.
Prints {name: {"runs": [{"latencies_ms": [...], "lost": n}, ...], "receivers": n, "connect_s",
"retries", "presence_frames", "quiet_after_s", "page_load_presence_frames"}}.
"""

import asyncio
import json
import random
import sys
import time
from functools import partial

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake

from bench.core import raise_open_files_limit

CONNECT_AT_ONCE = 10
CONNECT_ATTEMPTS = 6
WARMUP_TIMEOUT = 15.0
STALL = 3.0  # after the last send, stop waiting once no frame arrived for this long
GRACE_CAP = 10.0
SETTLE_CAP = 240.0  # 1,000 staff connects are ~500,000 presence frames
PAGE_LOAD_WATCH = 2.0  # under PRESENCE_OFFLINE_GRACE_SECONDS (5 s): a reload, not a departure
TYPING_MARK = '"type": "typing"'  # how send_json (json.dumps) spells a typing frame
PRESENCE_MARK = '"type": "presence"'


class Receiver:
    def __init__(self, ws) -> None:
        self.ws = ws
        self.arrivals: list[float] = []
        self.presence_frames = 0
        self.last_frame_at = time.perf_counter()

    async def listen(self) -> None:
        async for raw in self.ws:
            now = time.perf_counter()
            self.last_frame_at = now
            # A substring test, not json.loads: at 4,000 frames/s the generator's own CPU counts.
            if TYPING_MARK in raw:
                self.arrivals.append(now)
            elif PRESENCE_MARK in raw:
                self.presence_frames += 1


async def open_client(url: str, cookie: str | None, origin: str, subscribe: dict | None):
    headers = {"Cookie": f"sessionid={cookie}"} if cookie else {}
    ws = await connect(url, origin=origin, additional_headers=headers, max_queue=None)
    if subscribe is not None:
        await ws.send(json.dumps(subscribe))
        while json.loads(await ws.recv()).get("type") != "subscribed":
            pass
    return ws


async def open_all(config: dict) -> tuple[list, int]:
    """Every client's socket, in config order, and how many handshakes had to be retried."""
    cookies = config.get("cookies") or [None] * len(config["urls"])
    return await open_with_retries(
        [
            partial(open_client, url, cookie, config["origin"], config["subscribe"])
            for url, cookie in zip(config["urls"], cookies, strict=True)
        ],
        at_once=CONNECT_AT_ONCE,
    )


async def open_with_retries(openers: list, *, at_once: int) -> tuple[list, int]:
    """Await every opener, `at_once` handshakes in flight, retrying a refused or dropped one
    with jittered backoff; their sockets in order, and how many retries it took."""
    limit, retries = asyncio.Semaphore(at_once), 0

    async def opened(open_socket):
        nonlocal retries
        for attempt in range(CONNECT_ATTEMPTS):
            async with limit:
                try:
                    return await open_socket()
                except (InvalidHandshake, OSError, TimeoutError):
                    if attempt == CONNECT_ATTEMPTS - 1:
                        raise
            retries += 1
            await asyncio.sleep(min(8.0, 0.5 * 2**attempt) * (0.5 + random.random() / 2))
        raise AssertionError("unreachable")

    sockets = await asyncio.gather(*(opened(open_socket) for open_socket in openers))
    return list(sockets), retries


def quiet_for(receivers: list[Receiver]) -> float:
    return time.perf_counter() - max(r.last_frame_at for r in receivers)


class Side:
    """One consumer's sockets (the relay's, or the staff's), connected once for every repeat."""

    def __init__(self, config: dict) -> None:
        self.config = {"cookies": None, "subscribe": None, "page_load": False, **config}
        self.report: dict = {}

    async def open(self, settle: float) -> None:
        started = time.perf_counter()
        self.sockets, retries = await open_all(self.config)
        connect_s = time.perf_counter() - started
        self.sender = self.sockets[0]
        self.receivers = [Receiver(ws) for ws in self.sockets[1:]]
        self.listeners = [asyncio.create_task(r.listen()) for r in self.receivers]
        typing = self.config["typing"]
        deadline = time.perf_counter() + WARMUP_TIMEOUT
        while min(len(r.arrivals) for r in self.receivers) == 0:
            if time.perf_counter() > deadline:
                break
            await self.sender.send(json.dumps({**typing, "is_typing": False}))
            await asyncio.sleep(0.2)
        cap = time.perf_counter() + SETTLE_CAP
        while time.perf_counter() < cap and quiet_for(self.receivers) < settle:
            await asyncio.sleep(min(0.1, settle - quiet_for(self.receivers)))
        presence_frames = sum(r.presence_frames for r in self.receivers)
        self.report = {
            "receivers": len(self.receivers),
            "connect_s": round(connect_s, 2),
            "retries": retries,
            "presence_frames": presence_frames,
            "quiet_after_s": round(time.perf_counter() - started - settle, 2),
            "page_load_presence_frames": None,
            "runs": [],
        }
        if self.config["page_load"]:
            await self.sender.close()
            cookies = self.config["cookies"]
            self.sender = self.sockets[0] = await open_client(
                self.config["urls"][0],
                cookies[0] if cookies else None,
                self.config["origin"],
                self.config["subscribe"],
            )
            await asyncio.sleep(PAGE_LOAD_WATCH)
            self.report["page_load_presence_frames"] = (
                sum(r.presence_frames for r in self.receivers) - presence_frames
            )

    async def measure(self, frames: int, rate: float) -> None:
        receivers, typing = self.receivers, self.config["typing"]
        for r in receivers:
            r.arrivals.clear()
        frames, interval = frames + frames % 2, 1.0 / rate
        sent_at = []
        start = time.perf_counter()
        for k in range(frames):
            await asyncio.sleep(max(0.0, start + k * interval - time.perf_counter()))
            sent_at.append(time.perf_counter())
            await self.sender.send(json.dumps({**typing, "is_typing": k % 2 == 0}))
        # Late is not lost: wait while frames still trickle in (a loaded machine queues them).
        deadline, last_total = time.perf_counter() + GRACE_CAP, -1
        stalled_since = time.perf_counter()
        while min(len(r.arrivals) for r in receivers) < frames and time.perf_counter() < deadline:
            total = sum(len(r.arrivals) for r in receivers)
            if total != last_total:
                last_total, stalled_since = total, time.perf_counter()
            elif time.perf_counter() - stalled_since > STALL:
                break
            await asyncio.sleep(0.05)
        latencies, lost = [], sum(max(0, frames - len(r.arrivals)) for r in receivers)
        for k in range(frames):
            arrived = [r.arrivals[k] for r in receivers if len(r.arrivals) > k]
            if len(arrived) == len(receivers):
                latencies.append((max(arrived) - sent_at[k]) * 1000)
        self.report["runs"].append({"latencies_ms": latencies, "lost": lost})

    async def close(self) -> None:
        for task in self.listeners:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


async def run(config: dict) -> dict:
    raise_open_files_limit()
    sides = {name: Side(side) for name, side in config["sides"].items()}
    try:
        for side in sides.values():
            await side.open(config["settle"])
        for _ in range(config["repeats"]):
            for side in sides.values():
                await side.measure(config["frames"], config["rate"])
    finally:
        for side in sides.values():
            if hasattr(side, "sockets"):
                await side.close()
    return {name: side.report for name, side in sides.items()}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(json.load(sys.stdin)))))
