"""Live chat frames to staff sockets (`{"type":"message",...}`), after commit."""

from functools import partial

from django.db import transaction

from accounts.models import User
from comms.attachments import serialize_attachment
from comms.models import ChannelMessage
from core.realtime import channel_group, group_send


def serialize_user(user: User) -> dict:
    return {"id": user.pk, "username": user.username, "name": user.short_name}


def serialize_message(message: ChannelMessage) -> dict:
    """The message as the API and the socket show it; a deleted one keeps its place but loses
    its body and files."""
    is_deleted = message.deleted_at is not None
    thread = getattr(message, "thread_root", None) if message.thread_id is None else None
    return {
        "id": message.pk,
        "channel": message.channel.slug,
        "author": serialize_user(message.author),
        "body": "" if is_deleted else message.body,
        "body_html": "" if is_deleted else message.body_html,
        "attachments": []
        if is_deleted
        else [serialize_attachment(a) for a in message.attachments.all()],
        "thread_root": message.thread.root_message_id if message.thread_id else None,
        "reply_count": thread.reply_count if thread else 0,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "is_deleted": is_deleted,
    }


def publish_message_on_commit(message: ChannelMessage) -> None:
    """The one publisher of chat `message` frames, to the channel's subscribers."""
    transaction.on_commit(
        partial(
            group_send,
            channel_group(message.channel.slug),
            {
                "type": "message",
                "channel": message.channel.slug,
                "message": serialize_message(message),
            },
        ),
        robust=True,
    )
