"""The staff WebSocket (`/ws/staff/`). The protocol is fixed in DESIGN.md."""

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class StaffConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        await self.accept()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json({"type": "error", "detail": "Realtime frames are not enabled yet."})
