"""Macros: a saved reply applied in one step — the reply goes out and the macro's status,
priority, tags, ticket fields and assignee are set, all or nothing; each change is on the
ticket's history."""

from django.db import transaction

from accounts.models import User
from accounts.permissions import Action, require
from tickets.custom_fields import set_ticket_fields
from tickets.history import record_ticket_event
from tickets.models import HistoryKind, SavedReply, Ticket, TicketMessage
from tickets.saved_replies import render_saved_reply
from tickets.services import assign_ticket, change_priority, change_status, reply_to_ticket
from tickets.tags import add_ticket_tags


@transaction.atomic
def apply_macro(
    *,
    ticket: Ticket,
    actor: User,
    saved_reply: SavedReply,
    body: str | None = None,
    channel: str | None = None,
    last_seen_message_id: int | None = None,
) -> TicketMessage:
    """Send the macro's reply (`body` when the agent edited it) and apply its actions.

    The status goes last, so a macro that solves the ticket does so after it replied; any
    refused step (an illegal status move, a reply collision) undoes the whole macro.
    """
    require(actor, Action.REPLY_TICKET)
    record_ticket_event(
        ticket_id=ticket.pk, actor_id=actor.pk, kind=HistoryKind.MACRO, name=saved_reply.title
    )
    text = (
        body
        if body and body.strip()
        else render_saved_reply(saved_reply=saved_reply, ticket=ticket)
    )
    message = reply_to_ticket(
        ticket=ticket,
        author=actor,
        body=text,
        channel=channel,
        last_seen_message_id=last_seen_message_id,
    )
    if saved_reply.add_tags:
        add_ticket_tags(ticket=ticket, actor=actor, tags=saved_reply.add_tags)
    if saved_reply.set_fields:
        set_ticket_fields(ticket=ticket, actor=actor, values=saved_reply.set_fields)
    if saved_reply.set_priority:
        change_priority(ticket=ticket, actor=actor, priority=saved_reply.set_priority)
    if saved_reply.set_assignee_id is not None:
        ticket.refresh_from_db(fields=["team"])
        assign_ticket(
            ticket=ticket, actor=actor, assignee=saved_reply.set_assignee, team=ticket.team
        )
    if saved_reply.set_status:
        change_status(ticket=ticket, actor=actor, status=saved_reply.set_status)
    return message
