"""Limits of the staff socket (issue 21, finding 4): frame rates per socket, one error frame per
burst, a per-user socket cap that closes the oldest, frame size and depth limits."""

import json

import pytest
from channels.db import database_sync_to_async

from comms.models import PresenceConnection
from comms.socket_limits import CLOSE_TOO_MANY_SOCKETS, FrameLimiter
from comms.tests.test_consumers import (
    drain,
    make_user,
    open_socket,
    receive,
    receive_skipping_presence,
    subscribe,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.anyio]


def frames_of(frames: list[dict], kind: str) -> list[dict]:
    return [frame for frame in frames if frame["type"] == kind]


# The default bursts with almost no refill: what a flood gets through does not depend on how
# fast this machine sends it (the refill itself is tested on FrameLimiter below).
BURST_ONLY = {"typing": (0.001, 5), "presence": (0.001, 2), "default": (20.0, 40)}


async def frames_until_quiet(communicator, count: int, kind: str, *, skip=None) -> list[dict]:
    """`count` frames of `kind` (other frames, and those `skip` matches, are ignored), then
    nothing more of that kind."""

    def wanted(frame: dict) -> bool:
        return frame["type"] == kind and not (skip and skip(frame))

    found = []
    while len(found) < count:
        frame = await receive(communicator)
        if wanted(frame):
            found.append(frame)
    assert [frame for frame in await drain(communicator) if wanted(frame)] == []
    return found


async def test_a_typing_flood_reaches_others_at_the_rate_limit_with_one_error(settings):
    settings.STAFF_SOCKET_FRAME_RATES = BURST_ONLY
    ana, bob = await database_sync_to_async(lambda: (make_user(), make_user()))()
    ana_socket, bob_socket = await open_socket(ana), await open_socket(bob)
    await drain(ana_socket)
    await subscribe(ana_socket, channel="general")
    await subscribe(bob_socket, channel="general")
    typing = {"type": "typing", "channel": "general", "is_typing": True}
    for _ in range(200):
        await ana_socket.send_json_to(typing)
    await frames_until_quiet(bob_socket, 5, "typing")
    [error] = await frames_until_quiet(ana_socket, 1, "error")
    assert error["code"] == "rate_limited"
    assert "typing" in error["detail"]
    await ana_socket.disconnect()
    await bob_socket.disconnect()


async def test_a_presence_flood_broadcasts_only_what_the_bucket_admits(settings):
    settings.STAFF_SOCKET_FRAME_RATES = BURST_ONLY
    ana, bob = await database_sync_to_async(lambda: (make_user(), make_user()))()
    watcher = await open_socket(bob)
    ana_socket = await open_socket(ana)
    await drain(watcher)
    for index in range(200):
        await ana_socket.send_json_to({"type": "presence", "status": ("away", "busy")[index % 2]})
    # The burst of 2 admits "away" then "busy": two changes, two broadcasts, 198 dropped.
    # (Connection announcements may still be in flight on a loaded machine.)
    broadcasts = await frames_until_quiet(
        watcher, 2, "presence", skip=lambda f: f["status"] == "online"
    )
    assert [(f["user"]["id"], f["status"]) for f in broadcasts] == [
        (ana.pk, "away"),
        (ana.pk, "busy"),
    ]
    [error] = await frames_until_quiet(ana_socket, 1, "error")
    assert error["code"] == "rate_limited"
    await ana_socket.disconnect()
    await watcher.disconnect()


async def test_presence_is_broadcast_only_when_it_changes():
    ana, bob = await database_sync_to_async(lambda: (make_user(), make_user()))()
    watcher = await open_socket(bob)
    ana_socket = await open_socket(ana)
    await drain(watcher)
    await ana_socket.send_json_to({"type": "presence", "status": "online"})
    assert await watcher.receive_nothing(timeout=0.2)
    await ana_socket.disconnect()
    await watcher.disconnect()


def test_a_new_burst_after_a_pass_is_reported_again(settings):
    settings.STAFF_SOCKET_FRAME_RATES = {"typing": (1000.0, 1), "default": (1000.0, 1)}
    limiter = FrameLimiter()
    assert limiter.admit("typing") == (True, False)
    assert limiter.admit("typing") == (False, True)
    assert limiter.admit("typing") == (False, False)
    # Another type has its own bucket and its own report.
    assert limiter.admit("subscribe") == (True, False)
    limiter.buckets["typing"].tokens = 1
    assert limiter.admit("typing") == (True, False)
    limiter.buckets["typing"].tokens = 0
    limiter.buckets["typing"].rate = 0
    assert limiter.admit("typing") == (False, True)


def test_unknown_and_malformed_frames_share_the_default_bucket():
    limiter = FrameLimiter()
    assert limiter.bucket_name("nonsense-1") == limiter.bucket_name(None) == "default"
    assert limiter.bucket_name("typing") == "typing"


async def test_bad_frames_cannot_flood_error_frames_back(settings):
    settings.STAFF_SOCKET_FRAME_RATES = {"default": (1.0, 3)}
    user = await database_sync_to_async(make_user)()
    communicator = await open_socket(user)
    for _ in range(50):
        await communicator.send_to(text_data="{nope")
    codes = [frame["code"] for frame in frames_of(await drain(communicator), "error")]
    assert codes == ["malformed_json"] * 3 + ["rate_limited"]
    await communicator.disconnect()


OVERSIZED_AND_DEEP = [
    ("[" * 100_000 + "]" * 100_000, "frame_too_large"),
    (json.dumps({"type": "presence", "status": "x" * 20_000}), "frame_too_large"),
    # Deep enough to exhaust the JSON parser's recursion (it used to close the socket with 1011).
    ("[" * 5000 + "]" * 5000, "frame_too_deep"),
    ('{"type": "typing", "channel": ' + "[" * 5000 + "]" * 5000 + "}", "frame_too_deep"),
    # Parsable, but deeper than any frame of the protocol.
    (json.dumps({"type": "subscribe", "channel": {"a": {"b": [[[[[[1]]]]]]}}}), "frame_too_deep"),
]


async def test_oversized_and_deep_frames_get_an_error_and_the_socket_stays_open():
    user = await database_sync_to_async(make_user)()
    communicator = await open_socket(user)
    for raw, code in OVERSIZED_AND_DEEP:
        await communicator.send_to(text_data=raw)
        frame = await receive_skipping_presence(communicator)
        assert (frame["type"], frame["code"]) == ("error", code), raw[:60]
    await subscribe(communicator, channel="general")
    await communicator.disconnect()


async def test_the_socket_cap_closes_the_oldest(settings):
    settings.STAFF_SOCKET_MAX_PER_USER = 2
    ana, bob = await database_sync_to_async(lambda: (make_user(), make_user()))()
    bob_socket = await open_socket(bob)
    first = await open_socket(ana)
    second = await open_socket(ana)
    assert frames_of(await drain(first), "error") == []
    third = await open_socket(ana, drain_presence=False)
    evicted = await receive_skipping_presence(first)
    assert evicted["type"] == "error" and evicted["code"] == "too_many_sockets"
    closed = await first.receive_output(timeout=2)
    assert closed == {"type": "websocket.close", "code": CLOSE_TOO_MANY_SOCKETS}
    await first.disconnect(code=CLOSE_TOO_MANY_SOCKETS)
    # The others stay open and serving; someone else's sockets are not counted.
    for communicator in (second, third, bob_socket):
        await drain(communicator)
        await subscribe(communicator, channel="general")
    remaining = await database_sync_to_async(
        lambda: PresenceConnection.objects.filter(user=ana).count()
    )()
    assert remaining == 2
    for communicator in (second, third, bob_socket):
        await communicator.disconnect()
