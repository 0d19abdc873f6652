"""The storefront widget's socket (`/ws/widget/?inbox=<key>`), for visitors only: never a staff
group, never the session. DESIGN.md fixes the route; the protocol (docs/channels.md "Web chat"):

- connect: the page's Origin must be one of the inbox's hosts and the client address within
  WEBCHAT_IP_RATE, else the socket is closed before it opens (4403 / 4429).
- client → server: `{"type":"auth","token":…}` first (the widget token from /session/), then
  `{"type":"typing","is_typing":bool}`,
  `{"type":"receipt","message_id":…,"status":"delivered"|"read"}`.
- server → client: `{"type":"ready"}`, `{"type":"message","message":{…}}` (the visitor's own,
  echoed to their other tabs, and the agents' replies), `{"type":"typing","is_typing":…,
  "name":…}` (an agent), `{"type":"proof","proof":{…}}` (a proof card sent, decided or
  superseded; printshop), `{"type":"csat","survey":{…}}` (the rating prompt of a solved ticket,
  or its thanks), `{"type":"error","detail":…,"code":…}`.
- More than WEBCHAT_SOCKET_FRAME_RATE frames is a flood: one error frame, then close (4429).
"""

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from comms.socket_limits import FrameError, parse_frame
from core.errors import ApplicationError
from core.ratelimit import TokenBucket, rate_limited, scope_client_ip
from core.realtime import ticket_group, widget_ticket_group, widget_visitor_group
from integrations.webchat import identity, selectors, services

CLOSE_ORIGIN_REFUSED = 4403
CLOSE_FLOOD = 4429
CLOSE_BAD_TOKEN = 4401


def _load_inbox(key: str):
    try:
        return selectors.get_inbox(key=key)
    except ApplicationError:
        return None


class WidgetConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.visitor: services.Visitor | None = None
        self.groups_joined: set[str] = set()
        self.tickets: list = []
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        key = (query.get("inbox") or [""])[0]
        headers = dict(self.scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin-1")
        self.inbox = await database_sync_to_async(_load_inbox)(key)
        if self.inbox is None or not selectors.origin_allowed(inbox=self.inbox, origin=origin):
            await self.close(code=CLOSE_ORIGIN_REFUSED)
            return
        ip = scope_client_ip(self.scope)
        if await database_sync_to_async(rate_limited)(
            key=f"webchat:ip:{ip}", rate=settings.WEBCHAT_IP_RATE
        ):
            await self.close(code=CLOSE_FLOOD)
            return
        rate, burst = settings.WEBCHAT_SOCKET_FRAME_RATE
        self.bucket = TokenBucket(rate=rate, burst=burst)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if not self.bucket.take():
            await self._error("Too many frames: this connection is closed.", code="rate_limited")
            await self.close(code=CLOSE_FLOOD)
            return
        try:
            content = parse_frame(text_data)
        except FrameError as exc:
            await self._error(exc.message, code=exc.code)
            return
        if not isinstance(content, dict):
            await self._error("A frame is a JSON object with a `type`.", code="invalid_frame")
            return
        handler = {
            "auth": self.frame_auth,
            "typing": self.frame_typing,
            "receipt": self.frame_receipt,
        }.get(content.get("type"))
        if handler is None:
            await self._error(f"Unknown frame type {content.get('type')!r}.", code="unknown_type")
            return
        if handler != self.frame_auth and self.visitor is None:
            await self._error("Send the `auth` frame first.", code="not_authenticated")
            return
        try:
            await handler(content)
        except ApplicationError as exc:
            await self._error(exc.message, code=exc.code)

    async def frame_auth(self, content: dict) -> None:
        try:
            visitor_id = identity.read_visitor_token(
                inbox=self.inbox, token=str(content.get("token", ""))
            )
        except identity.InvalidToken as exc:
            await self._error(exc.message, code=exc.code)
            await self.close(code=CLOSE_BAD_TOKEN)
            return
        self.visitor = services.Visitor(inbox=self.inbox, visitor_id=visitor_id)
        await self._join(widget_visitor_group(visitor_id))
        await self._refresh_tickets()
        await self.send_json({"type": "ready"})

    async def frame_typing(self, content: dict) -> None:
        is_typing = content.get("is_typing")
        if not isinstance(is_typing, bool):
            raise FrameError("`is_typing` must be true or false.")
        if not self.tickets:
            return
        # Staff see it as the ticket's typing frame (DESIGN.md), from the customer.
        ticket = self.tickets[0]
        await self.channel_layer.group_send(
            ticket_group(ticket.reference),
            {
                "type": "typing",
                "ticket": ticket.reference,
                "user": {
                    "id": f"visitor:{self.visitor.visitor_id[:12]}",
                    "username": "visitor",
                    "name": ticket.customer.name or "The customer",
                },
                "is_typing": is_typing,
            },
        )

    async def frame_receipt(self, content: dict) -> None:
        message_id = content.get("message_id")
        if not isinstance(message_id, int):
            raise FrameError("`message_id` is a number.")
        await database_sync_to_async(services.record_receipt)(
            visitor=self.visitor, message_id=message_id, status=str(content.get("status", ""))
        )

    # Group events ---------------------------------------------------------------------------------

    async def widget_message(self, event: dict) -> None:
        """The visitor's own message (from any of their tabs)."""
        if event["message"]["ticket"] not in {t.reference for t in self.tickets}:
            await self._refresh_tickets()
        await self.send_json({"type": "message", "message": event["message"]})

    async def widget_delivery(self, event: dict) -> None:
        """An agent's reply on one of this visitor's tickets: load it as the visitor may see it."""
        try:
            # A read-only load, so it need not queue on the process's one database thread with
            # every other socket's work: 1,000 visitors' replies arrive together
            # (bench/README.md, "Fan-out and visitors at 1,000").
            load = database_sync_to_async(self._load_message, thread_sensitive=False)
            frame = await load(event["message_id"])
        except ApplicationError:
            return
        await self.send_json({"type": "message", "message": frame})

    async def widget_proof(self, event: dict) -> None:
        """A proof card of this socket's ticket group (built by printshop for the visitor)."""
        await self.send_json({"type": "proof", "proof": event["proof"]})

    async def widget_csat(self, event: dict) -> None:
        """The rating prompt (or thanks) of this socket's ticket group."""
        await self.send_json({"type": "csat", "survey": event["survey"]})

    async def widget_typing(self, event: dict) -> None:
        await self.send_json(
            {"type": "typing", "is_typing": event["is_typing"], "name": event.get("name", "")}
        )

    # Internals ------------------------------------------------------------------------------------

    def _load_message(self, message_id: int) -> dict:
        message = selectors.get_visitor_message(tickets=self.tickets, message_id=message_id)
        return selectors.serialize_message(message, shop_name=self.inbox.shop_name)

    async def _refresh_tickets(self) -> None:
        self.tickets = await database_sync_to_async(selectors.list_visitor_tickets)(
            inbox=self.inbox, visitor_id=self.visitor.visitor_id
        )
        for ticket in self.tickets:
            await self._join(widget_ticket_group(ticket.reference))

    async def _join(self, group: str) -> None:
        if group not in self.groups_joined:
            self.groups_joined.add(group)
            await self.channel_layer.group_add(group, self.channel_name)

    async def _error(self, detail: str, *, code: str) -> None:
        await self.send_json({"type": "error", "detail": detail, "code": code})
