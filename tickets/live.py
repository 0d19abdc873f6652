"""Live updates of tickets to staff sockets (`ticket.updated`), after commit."""

from functools import partial

from django.db import transaction
from django.utils import timezone

from core.realtime import INBOX_GROUP, group_send, ticket_group
from tickets.models import Ticket


def serialize_ticket_event(ticket: Ticket) -> dict:
    return {
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "assignee_id": ticket.assignee_id,
        "team_id": ticket.team_id,
        "is_escalated": ticket.is_escalated,
        "updated_at": timezone.now().isoformat(),
    }


def publish_ticket_updated(ticket: Ticket) -> None:
    """The one publisher of `ticket.updated`: to the ticket's subscribers and the inbox."""
    event = {"type": "ticket.updated", "ticket": serialize_ticket_event(ticket)}
    group_send(ticket_group(ticket.reference), event)
    group_send(INBOX_GROUP, event)


def publish_ticket_updated_on_commit(ticket: Ticket) -> None:
    transaction.on_commit(partial(publish_ticket_updated, ticket), robust=True)
