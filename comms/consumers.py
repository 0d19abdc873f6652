"""The staff WebSocket (`/ws/staff/`). The protocol is fixed in DESIGN.md.

The consumer parses frames, checks permission through selectors and forwards group events; all
shared state (presence, who is connected) lives in the database and the channel layer, so any
number of daphne processes can serve sockets.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts.permissions import Action, can
from comms import live, selectors, services, socket_limits, viewing
from comms.socket_limits import FrameError
from core.errors import ApplicationError
from core.realtime import (
    INBOX_GROUP,
    channel_group,
    session_group,
    ticket_group,
    user_group,
    widget_ticket_group,
)

logger = logging.getLogger(__name__)

PRESENCE_STATUSES = ("online", "away", "busy")
# When this process last swept stale sockets (a throttle only; the state itself is in the DB).
_last_sweep_at = float("-inf")
# Offline announcements waiting out their grace; held so the event loop keeps them. If this
# process dies first, another process's sweep sends them (services.expire_stale_connections).
_pending_offline: set[asyncio.Task] = set()


def _settle_offline_after_grace(channel_layer, user_id: int) -> None:
    """The user's last socket here closed: announce them offline unless one reopens in time."""

    async def settle() -> None:
        await asyncio.sleep(services.realtime_setting("PRESENCE_OFFLINE_GRACE_SECONDS"))
        change = await database_sync_to_async(services.settle_offline)(user_id=user_id)
        if change is not None:
            await channel_layer.group_send(services.PRESENCE_GROUP, change.as_event())

    task = asyncio.create_task(settle())
    _pending_offline.add(task)
    task.add_done_callback(_pending_offline.discard)


def _target(content: dict) -> tuple[str, str]:
    """The one `channel` or `ticket` a frame is about, as (kind, value)."""
    channel, ticket = content.get("channel"), content.get("ticket")
    if (channel is None) == (ticket is None):
        raise FrameError("Name exactly one of `channel` or `ticket`.")
    kind, value = ("channel", channel) if channel is not None else ("ticket", ticket)
    if not isinstance(value, str) or not value:
        raise FrameError(f"`{kind}` must be a non-empty string.")
    return kind, value


def _group_for(kind: str, value: str) -> str:
    return channel_group(value) if kind == "channel" else ticket_group(value)


class StaffConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        self.user = user
        self.subscriptions: set[str] = set()
        self.typing_expiry: dict[tuple[str, str, int], asyncio.Task] = {}
        self.heartbeat_task: asyncio.Task | None = None
        self.limiter = socket_limits.FrameLimiter()
        self.static_groups = [user_group(user.pk), services.PRESENCE_GROUP]
        session_key = getattr(self.scope.get("session"), "session_key", None)
        if session_key:
            # Signing this browser session out elsewhere closes its sockets (docs/security.md).
            self.static_groups.append(session_group(session_key))
        if await database_sync_to_async(can)(user, Action.VIEW_TICKETS):
            self.static_groups.append(INBOX_GROUP)
        for group in self.static_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        # Registered, announced and within the cap before the client hears it is connected.
        change = await database_sync_to_async(services.register_connection)(
            user=user, channel_name=self.channel_name
        )
        await self._announce([change] if change else [])
        await self._close_excess_sockets()
        await self.accept()
        self.heartbeat_task = asyncio.create_task(self._heartbeat_loop())

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "user"):
            return
        if self.heartbeat_task is not None:
            self.heartbeat_task.cancel()
        for task in self.typing_expiry.values():
            task.cancel()
        for group in [*self.static_groups, *self.subscriptions]:
            await self.channel_layer.group_discard(group, self.channel_name)
        left = await database_sync_to_async(viewing.stop_viewing)(channel_name=self.channel_name)
        last_of_user = await database_sync_to_async(services.unregister_connection)(
            channel_name=self.channel_name
        )
        if last_of_user is not None:
            _settle_offline_after_grace(self.channel_layer, last_of_user)
        for reference in left:
            await self._announce_viewers(reference)

    # Client frames ------------------------------------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        try:
            content, error = socket_limits.parse_frame(text_data), None
        except FrameError as exc:
            content, error = None, exc
        # Every frame spends a token first, so a flood of bad frames is dropped like any other.
        frame_type = content.get("type") if isinstance(content, dict) else None
        handle, report = self.limiter.admit(frame_type)
        if not handle:
            if report:
                name = self.limiter.bucket_name(frame_type)
                await self._error(
                    f"Too many {name} frames: the excess is dropped.", code="rate_limited"
                )
            return
        if error is not None:
            await self._error(error.message, code=error.code)
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._error("A frame is a JSON object with a `type`.", code="invalid_frame")
            return
        handler = self.frame_handlers.get(content.get("type"))  # type: ignore[arg-type]
        if handler is None:
            await self._error(f"Unknown frame type {content.get('type')!r}.", code="unknown_type")
            return
        try:
            await handler(self, content)
        except ApplicationError as exc:
            await self._error(exc.message, code=exc.code)

    async def frame_subscribe(self, content: dict) -> None:
        kind, value = _target(content)
        if kind == "channel":
            allowed = await database_sync_to_async(selectors.can_subscribe_channel)(
                user=self.user, slug=value
            )
        else:
            allowed = await database_sync_to_async(selectors.can_subscribe_ticket)(
                user=self.user, reference=value
            )
        if not allowed:
            raise ApplicationError(
                f"You cannot subscribe to that {kind}.", code="subscribe_refused"
            )
        group = _group_for(kind, value)
        await self.channel_layer.group_add(group, self.channel_name)
        self.subscriptions.add(group)
        await self.send_json({"type": "subscribed", kind: value})

    async def frame_unsubscribe(self, content: dict) -> None:
        kind, value = _target(content)
        group = _group_for(kind, value)
        if group in self.subscriptions:
            self.subscriptions.discard(group)
            await self.channel_layer.group_discard(group, self.channel_name)
        await self.send_json({"type": "unsubscribed", kind: value})
        if kind == "ticket":
            left = await database_sync_to_async(viewing.stop_viewing)(
                channel_name=self.channel_name, reference=value
            )
            for reference in left:
                await self._announce_viewers(reference)

    async def frame_viewing(self, content: dict) -> None:
        """Collision detection: this socket shows the ticket page (after subscribing to it)."""
        kind, value = _target(content)
        if kind != "ticket":
            raise FrameError("`viewing` is about a `ticket`.")
        if ticket_group(value) not in self.subscriptions:
            raise ApplicationError(
                "Subscribe to the ticket before viewing it.", code="not_subscribed"
            )
        await database_sync_to_async(viewing.start_viewing)(
            user=self.user, reference=value, channel_name=self.channel_name
        )
        await self._announce_viewers(value)

    async def frame_typing(self, content: dict) -> None:
        kind, value = _target(content)
        is_typing = content.get("is_typing")
        if not isinstance(is_typing, bool):
            raise FrameError("`is_typing` must be true or false.")
        group = _group_for(kind, value)
        if group not in self.subscriptions:
            raise ApplicationError(
                f"Subscribe to the {kind} before typing in it.", code="not_subscribed"
            )
        await self.channel_layer.group_send(
            group,
            {
                "type": "typing",
                kind: value,
                "user": live.serialize_user(self.user),
                "is_typing": is_typing,
            },
        )
        if kind == "ticket":
            # The customer's storefront widget shows "<first name> is typing" too.
            await self.channel_layer.group_send(
                widget_ticket_group(value),
                {"type": "widget.typing", "is_typing": is_typing, "name": self.user.first_name},
            )

    async def frame_presence(self, content: dict) -> None:
        status = content.get("status")
        if status not in PRESENCE_STATUSES:
            raise FrameError("`status` is online, away or busy.")
        change = await database_sync_to_async(services.set_presence_status)(
            user=self.user, status=status
        )
        await self._announce([change] if change else [])

    frame_handlers: dict[str, Callable[["StaffConsumer", dict], Awaitable[None]]] = {
        "subscribe": frame_subscribe,
        "unsubscribe": frame_unsubscribe,
        "typing": frame_typing,
        "presence": frame_presence,
        "viewing": frame_viewing,
    }

    # Group events: each is already the frame the browser receives -------------------------------

    async def ticket_updated(self, event: dict) -> None:
        await self.send_json(event)

    async def notification(self, event: dict) -> None:
        await self.send_json(event)

    async def message(self, event: dict) -> None:
        await self.send_json(event)

    async def presence(self, event: dict) -> None:
        await self.send_json(event)

    async def socket_evicted(self, event: dict) -> None:
        # The user opened more sockets than the cap allows; this one is the oldest.
        await self._error(
            "Too many open connections: this, the oldest, is closed.", code="too_many_sockets"
        )
        await self.close(code=socket_limits.CLOSE_TOO_MANY_SOCKETS)

    async def session_revoked(self, event: dict) -> None:
        # The session ended (signed out from another device, or the member was deactivated).
        await self.close(code=4401)

    async def viewing(self, event: dict) -> None:
        await self.send_json(event)

    async def typing(self, event: dict) -> None:
        user_id = event.get("user", {}).get("id")
        if user_id == self.user.pk:
            return
        kind = "channel" if "channel" in event else "ticket"
        key = (kind, event[kind], user_id)
        pending = self.typing_expiry.pop(key, None)
        if pending is not None:
            pending.cancel()
        if event.get("is_typing"):
            # The sender may vanish without a stop frame: expire it here, per receiving socket.
            self.typing_expiry[key] = asyncio.create_task(
                self._expire_typing(key, {**event, "is_typing": False})
            )
        await self.send_json(event)

    # Internals ----------------------------------------------------------------------------------

    async def _expire_typing(self, key: tuple[str, str, int], stop_frame: dict) -> None:
        await asyncio.sleep(services.realtime_setting("TYPING_TTL_SECONDS"))
        self.typing_expiry.pop(key, None)
        await self.send_json(stop_frame)

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(services.realtime_setting("PRESENCE_HEARTBEAT_SECONDS"))
            try:
                alive = await database_sync_to_async(services.heartbeat_connections)(
                    channel_names=[self.channel_name]
                )
                if not alive:
                    # Swept while the database was unreachable: this socket is still here.
                    change = await database_sync_to_async(services.register_connection)(
                        user=self.user, channel_name=self.channel_name
                    )
                    await self._announce([change] if change else [])
                await self._sweep()
            except Exception:
                # A database hiccup must not end the loop: the next beat retries.
                logger.exception("comms.presence.heartbeat_failed")

    async def _sweep(self) -> None:
        """Expire other processes' dead sockets; once per beat per process is enough."""
        global _last_sweep_at
        now = time.monotonic()
        if now - _last_sweep_at < services.realtime_setting("PRESENCE_HEARTBEAT_SECONDS") * 0.9:
            return
        _last_sweep_at = now
        changes = await database_sync_to_async(services.expire_stale_connections)()
        await self._announce(changes)

    async def _close_excess_sockets(self) -> None:
        """The per-user cap: the oldest sockets beyond it close, in whichever process holds them
        (the channel layer delivers to a channel name anywhere)."""
        excess = await database_sync_to_async(services.list_excess_connections)(
            user=self.user, keep=socket_limits.limit("STAFF_SOCKET_MAX_PER_USER")
        )
        for channel_name in excess:
            await self.channel_layer.send(channel_name, {"type": "socket.evicted"})

    async def _announce(self, changes: list[services.PresenceChange]) -> None:
        for change in changes:
            await self.channel_layer.group_send(services.PRESENCE_GROUP, change.as_event())

    async def _announce_viewers(self, reference: str) -> None:
        """Collision detection (docs/automation.md): who has this ticket open now."""
        frame = await database_sync_to_async(viewing.build_viewing_frame)(reference=reference)
        await self.channel_layer.group_send(ticket_group(reference), frame)

    async def _error(self, detail: str, *, code: str) -> None:
        await self.send_json({"type": "error", "detail": detail, "code": code})
