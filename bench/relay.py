"""The minimal relay consumer: no auth, no database, one group; the ceiling for fan-out.

`/ws/relay/` joins the broadcast group (the staff comparison: one sender, every socket
receives); `/ws/relay/?group=<name>` joins a group of its own instead (the visitor comparison:
one frame published to each socket's own group, as a reply to one visitor is).
"""

from typing import Any
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncJsonWebsocketConsumer

RELAY_GROUP = "bench.relay"


def relay_group(name: str = "") -> str:
    return f"{RELAY_GROUP}.{name}" if name else RELAY_GROUP


class RelayConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        self.group = relay_group((query.get("group") or [""])[0])
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.channel_layer.group_send(self.group, {"type": "relay.frame", "frame": content})

    async def relay_frame(self, event: dict) -> None:
        await self.send_json(event["frame"])
