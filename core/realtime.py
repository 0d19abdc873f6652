"""Publishing to WebSocket groups from synchronous code (requests, tasks, services).

Services call these through `transaction.on_commit` so nothing is announced that may roll back.
Group names follow STYLE.md: `ticket.<ref>`, `channel.<slug>`, `user.<id>`.
"""

import hashlib
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def group_send(group: str, event: dict[str, Any]) -> None:
    """Send `event` (whose `type` names the consumer handler) to every socket in `group`."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(group, event)


def ticket_group(reference: str) -> str:
    return f"ticket.{reference}"


def channel_group(slug: str) -> str:
    return f"channel.{slug}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def session_group(session_key: str) -> str:
    """The sockets of one browser session (ending the session closes them); the key is hashed
    so it never travels through the channel layer."""
    return f"session.{hashlib.sha256(session_key.encode()).hexdigest()[:32]}"


INBOX_GROUP = "inbox"


def widget_ticket_group(reference: str) -> str:
    """The storefront widget's sockets on a ticket: agent replies and agent typing. Never a
    staff group: a visitor's socket joins only `widget.*` groups (integrations/webchat)."""
    return f"widget.ticket.{reference}"


def widget_visitor_group(visitor_id: str) -> str:
    """One widget visitor's sockets (all their tabs): their own messages, echoed."""
    return f"widget.visitor.{visitor_id}"
