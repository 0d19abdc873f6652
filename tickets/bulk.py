"""Changes to many tickets, or several fields of one, applied all-or-nothing."""

from django.db import transaction

from accounts.models import Team, User
from helpdesk.errors import ApplicationError
from tickets.models import Ticket, TicketStatus
from tickets.services import assign_ticket, change_priority, change_status


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
) -> Ticket:
    """Apply several edits at once (API PATCH). `reassign` says whether assignee/team are meant."""
    if reassign:
        assign_ticket(ticket=ticket, actor=actor, assignee=assignee, team=team)
    if priority is not None:
        change_priority(ticket=ticket, actor=actor, priority=priority)
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
    if ticket.status not in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        change_status(ticket=ticket, actor=actor, status=TicketStatus.SOLVED)
    change_status(ticket=ticket, actor=actor, status=TicketStatus.CLOSED)
