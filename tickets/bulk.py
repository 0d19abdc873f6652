"""Use cases composed of several services, applied all-or-nothing: staff opening a ticket for a
customer, editing several fields of one ticket, bulk edits of many."""

from django.db import transaction

from accounts.models import Team, User
from accounts.permissions import Action, require
from core.errors import ApplicationError
from tickets.custom_fields import set_ticket_fields
from tickets.identities import identity_kind_for_channel
from tickets.models import ChannelKind, Customer, Ticket, TicketPriority, TicketStatus
from tickets.services import (
    assign_ticket,
    change_priority,
    change_status,
    find_or_create_customer,
    open_ticket,
    reply_to_ticket,
)
from tickets.tags import set_ticket_tags


@transaction.atomic
def create_ticket(
    *,
    actor: User,
    channel: str,
    subject: str,
    customer: Customer | None = None,
    identity_value: str = "",
    customer_name: str = "",
    priority: str = TicketPriority.NORMAL,
    body: str = "",
) -> Ticket:
    """Staff open a ticket for a known customer, or for whoever owns the address/number on
    `channel` (created on first contact); an optional first message goes out as a reply."""
    require(actor, Action.CREATE_TICKET)
    fields = {}
    if channel not in ChannelKind.values:
        fields["channel"] = ["Unknown channel."]
    if priority not in TicketPriority.values:
        fields["priority"] = ["Unknown priority."]
    if customer is None and not identity_value.strip():
        fields["customer"] = ["Choose a customer or give their address on this channel."]
    if fields:
        raise ApplicationError("The ticket is incomplete.", code="invalid", fields=fields)
    if customer is None:
        try:
            customer = find_or_create_customer(
                kind=identity_kind_for_channel(channel), value=identity_value, name=customer_name
            )
        except ApplicationError as exc:
            exc.fields = {"identity_value": [exc.message]}
            raise
    ticket = open_ticket(
        customer=customer, channel=channel, subject=subject, opened_by=actor, priority=priority
    )
    if body.strip():
        reply_to_ticket(ticket=ticket, author=actor, body=body, channel=channel)
    ticket.refresh_from_db()
    return ticket


@transaction.atomic
def update_ticket(
    *,
    ticket: Ticket,
    actor: User,
    status: str | None = None,
    priority: str | None = None,
    reassign: bool = False,
    assignee: User | None = None,
    team: Team | None = None,
    tags: list[str] | None = None,
    custom_fields: dict | None = None,
) -> Ticket:
    """Apply several edits at once (API PATCH). `reassign` says whether assignee/team are meant."""
    if tags is not None:
        set_ticket_tags(ticket=ticket, actor=actor, tags=tags)
    if custom_fields:
        set_ticket_fields(ticket=ticket, actor=actor, values=custom_fields)
    if priority is not None:
        change_priority(ticket=ticket, actor=actor, priority=priority)
    if reassign:
        assign_ticket(ticket=ticket, actor=actor, assignee=assignee, team=team)
    if status is not None:
        change_status(ticket=ticket, actor=actor, status=status)
    ticket.refresh_from_db()
    return ticket


BULK_ACTIONS = ("assign", "status", "close")


@transaction.atomic
def bulk_update_tickets(
    *,
    tickets: list[Ticket],
    actor: User,
    action: str,
    status: str | None = None,
    assignee: User | None = None,
    team: Team | None = None,
) -> int:
    """Assign (each ticket keeps its team unless one is given), change status or close.

    One failure rolls them all back and names the ticket, so the inbox never shows a
    half-applied bulk edit.
    """
    if action not in BULK_ACTIONS:
        raise ApplicationError(
            f"Unknown bulk action '{action}'.", code="invalid", fields={"action": ["Unknown."]}
        )
    if not tickets:
        raise ApplicationError(
            "Select at least one ticket.", code="invalid", fields={"tickets": ["None selected."]}
        )
    if action == "status" and not status:
        raise ApplicationError(
            "Choose a status.", code="invalid", fields={"status": ["Choose a status."]}
        )
    for ticket in sorted(tickets, key=lambda t: t.pk):
        try:
            if action == "assign":
                assign_ticket(
                    ticket=ticket, actor=actor, assignee=assignee, team=team or ticket.team
                )
            elif action == "status":
                change_status(ticket=ticket, actor=actor, status=status)
            else:
                _close(ticket=ticket, actor=actor)
        except ApplicationError as exc:
            exc.message = f"{ticket.reference}: {exc.message}"
            raise
    return len(tickets)


def _close(*, ticket: Ticket, actor: User) -> None:
    """Closing from the inbox means "done": an unsolved ticket is solved on the way."""
    ticket.refresh_from_db(fields=["status"])
    if ticket.status not in TicketStatus.CLOSED_STATES:
        change_status(ticket=ticket, actor=actor, status=TicketStatus.SOLVED)
    change_status(ticket=ticket, actor=actor, status=TicketStatus.CLOSED)
