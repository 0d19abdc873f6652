"""`python -m bench.ws_load CONFIG_JSON`: the fan-out load generator (its own process).

Config: {"urls": [...one per client...], "cookies": [... or null], "origin": "...",
"subscribe": frame or null, "typing": frame, "frames": N, "rate": per second}.
Client 0 sends typing frames (is_typing alternating, ending false so no expiry frame follows);
every other client records when its k-th typing frame arrives. Frames are matched by order
(the layer keeps per-sender order), so frame k's latency is the time until the last receiver has
it; a receiver still short of N frames once arrivals stopped for STALL seconds lost the rest.
Prints {"latencies_ms": [...], "lost": n, "receivers": n}.
"""

import asyncio
import json
import sys
import time

from websockets.asyncio.client import connect

WARMUP_TIMEOUT = 15.0
STALL = 3.0  # after the last send, stop waiting once no frame arrived for this long
GRACE_CAP = 10.0
SETTLE_CAP = 20.0
TYPING_MARK = '"type": "typing"'  # how send_json (json.dumps) spells a typing frame


class Receiver:
    def __init__(self, ws) -> None:
        self.ws = ws
        self.arrivals: list[float] = []
        self.last_frame_at = time.perf_counter()

    async def listen(self) -> None:
        async for raw in self.ws:
            now = time.perf_counter()
            self.last_frame_at = now
            # A substring test, not json.loads: at 4,000 frames/s the generator's own CPU counts.
            if TYPING_MARK in raw:
                self.arrivals.append(now)


async def open_client(url: str, cookie: str | None, origin: str, subscribe: dict | None):
    headers = {"Cookie": f"sessionid={cookie}"} if cookie else {}
    ws = await connect(url, origin=origin, additional_headers=headers, max_queue=None)
    if subscribe is not None:
        await ws.send(json.dumps(subscribe))
        while json.loads(await ws.recv()).get("type") != "subscribed":
            pass
    return ws


async def run(config: dict) -> dict:
    limit = asyncio.Semaphore(20)

    async def opened(i: int, url: str):
        async with limit:
            cookie = config["cookies"][i] if config.get("cookies") else None
            return await open_client(url, cookie, config["origin"], config.get("subscribe"))

    sockets = await asyncio.gather(*(opened(i, url) for i, url in enumerate(config["urls"])))
    sender, receivers = sockets[0], [Receiver(ws) for ws in sockets[1:]]
    listeners = [asyncio.create_task(r.listen()) for r in receivers]
    typing = config["typing"]

    # Warm-up: until every receiver has seen a frame, so all subscriptions are live.
    deadline = time.perf_counter() + WARMUP_TIMEOUT
    while min(len(r.arrivals) for r in receivers) == 0 and time.perf_counter() < deadline:
        await sender.send(json.dumps({**typing, "is_typing": False}))
        await asyncio.sleep(0.2)
    # Steady state: wait until every socket has been quiet for `settle` seconds (connecting 200
    # staff sockets broadcasts 200 presence frames to each; that storm is not typing latency).
    settle, cap = config.get("settle", 1.0), time.perf_counter() + SETTLE_CAP
    while time.perf_counter() < cap:
        quiet_for = time.perf_counter() - max(r.last_frame_at for r in receivers)
        if quiet_for >= settle:
            break
        await asyncio.sleep(min(0.1, settle - quiet_for))
    for r in receivers:
        r.arrivals.clear()

    frames, interval = config["frames"] + config["frames"] % 2, 1.0 / config["rate"]
    sent_at = []
    start = time.perf_counter()
    for k in range(frames):
        await asyncio.sleep(max(0.0, start + k * interval - time.perf_counter()))
        sent_at.append(time.perf_counter())
        await sender.send(json.dumps({**typing, "is_typing": k % 2 == 0}))
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
    for task in listeners:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return {"latencies_ms": latencies, "lost": lost, "receivers": len(receivers)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(json.loads(sys.argv[1])))))
