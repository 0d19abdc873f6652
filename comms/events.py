"""The domain events comms emits. Only the analytics trail reacts to chat activity, so one
event type carries the activity's dotted name (`chat.message_posted`, `chat.channel_joined`,
...)."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class ChatActivity:
    name: str
    actor_id: int | None
    subject_type: str  # model label, e.g. comms.channel
    subject_id: int
    properties: dict[str, Any] = field(default_factory=dict)
