"""The domain events accounts emits. Only the analytics trail reacts to staff management, so
one event type carries the action's dotted name (`staff.created`, `api_token.revoked`, ...),
like the audit row written next to it."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class StaffActionTaken:
    name: str
    actor_id: int | None
    subject_type: str  # model label, e.g. accounts.user
    subject_id: int
    properties: dict[str, Any] = field(default_factory=dict)
