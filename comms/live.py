"""Live chat frames to staff sockets (`{"type":"message",...}`), after commit."""

from functools import partial

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction

from accounts.models import User
from comms.attachments import serialize_attachment
from comms.models import ChannelMessage, TicketDiscussion
from core.realtime import channel_group, group_send, ticket_group
from tickets.models import AgentHandoff, HandoffState


def serialize_user(user: User) -> dict:
    return {"id": user.pk, "username": user.username, "name": user.short_name}


def get_message_discussion(message: ChannelMessage) -> TicketDiscussion | None:
    """The ticket discussion whose root this message is (joined by the message selectors)."""
    if message.thread_id is not None:
        return None
    try:
        return message.ticket_discussion
    except ObjectDoesNotExist:
        return None


def serialize_ticket_card(discussion: TicketDiscussion) -> dict:
    """The ticket as its discussion's root shows it, read now: a status or assignee change
    re-sends the root (comms/subscribers.py) and the card follows."""
    ticket = discussion.ticket
    return {
        "reference": ticket.reference,
        "url": f"/tickets/{ticket.reference}/",
        "subject": ticket.subject,
        "customer": str(ticket.customer),
        "status": ticket.status,
        "status_label": ticket.get_status_display(),
        "priority": ticket.priority,
        "priority_label": ticket.get_priority_display(),
        "assignee": ticket.assignee.short_name if ticket.assignee_id else None,
        # printshop's order links, read through the reverse relation as the inbox's order filter
        # does (tickets.selectors): comms sits below printshop and never imports it.
        "orders": [{"number": o.number, "source": o.source} for o in ticket.orders.all()],
        "handoff": serialize_card_handoff(discussion.handoff) if discussion.handoff_id else None,
    }


def serialize_card_handoff(handoff: AgentHandoff) -> dict:
    """A handoff offered to the channel: "I'll take it" while pending, then who took it."""
    return {
        "id": handoff.pk,
        "state": handoff.state,
        "is_pending": handoff.state == HandoffState.PENDING,
        "taken_by": handoff.responded_by.short_name if handoff.responded_by_id else None,
        "take_url": f"/chat/handoffs/{handoff.pk}/take/",
    }


def serialize_message(message: ChannelMessage) -> dict:
    """The message as the API and the socket show it; a deleted one keeps its place but loses
    its body and files. The root of a ticket discussion carries the ticket's card."""
    is_deleted = message.deleted_at is not None
    thread = getattr(message, "thread_root", None) if message.thread_id is None else None
    discussion = get_message_discussion(message)
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
        "ticket": serialize_ticket_card(discussion) if discussion is not None else None,
    }


def _discussed_ticket_reference(message: ChannelMessage) -> str | None:
    root_id = message.thread.root_message_id if message.thread_id else message.pk
    return (
        TicketDiscussion.objects.filter(root_message_id=root_id)
        .values_list("ticket__reference", flat=True)
        .first()
    )


def publish_message_on_commit(message: ChannelMessage) -> None:
    """The one publisher of chat `message` frames, to the channel's subscribers and, for a
    ticket discussion, to the ticket's too (its page shows the discussion live)."""
    frame = {
        "type": "message",
        "channel": message.channel.slug,
        "message": serialize_message(message),
    }
    groups = [channel_group(message.channel.slug)]
    if (reference := _discussed_ticket_reference(message)) is not None:
        groups.append(ticket_group(reference))
    for group in groups:
        transaction.on_commit(partial(group_send, group, frame), robust=True)
