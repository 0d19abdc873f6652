"""The minimal relay consumer: no auth, no database, one group; the ceiling for fan-out."""

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

RELAY_GROUP = "bench.relay"


class RelayConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(RELAY_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(RELAY_GROUP, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.channel_layer.group_send(RELAY_GROUP, {"type": "relay.frame", "frame": content})

    async def relay_frame(self, event: dict) -> None:
        await self.send_json(event["frame"])
