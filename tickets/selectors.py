from datetime import datetime

from django.db.models import Count, Q

from accounts.models import User
from helpdesk.errors import NotFound
from tickets.models import MessageDirection, Ticket, TicketMessage, TicketStatus

OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD)


def count_tickets_for_dashboard(*, user: User) -> dict[str, int]:
    """Counts for the dashboard tiles, in one query."""
    open_filter = Q(status__in=OPEN_STATUSES)
    return Ticket.objects.aggregate(
        mine_open=Count("pk", filter=open_filter & Q(assignee=user)),
        unassigned=Count("pk", filter=open_filter & Q(assignee__isnull=True)),
        all_open=Count("pk", filter=open_filter),
        escalated=Count("pk", filter=open_filter & Q(is_escalated=True)),
    )


def get_outbound_message(*, message_id: int) -> TicketMessage:
    message = (
        TicketMessage.objects.select_related("ticket", "ticket__customer")
        .filter(pk=message_id, direction=MessageDirection.OUTBOUND)
        .first()
    )
    if message is None:
        raise NotFound("No such outbound message.", code="message_not_found")
    return message


def get_last_inbound_at(*, ticket: Ticket, channel: str) -> datetime | None:
    """When the customer last wrote on `channel`, across all their tickets."""
    return (
        TicketMessage.objects.filter(
            ticket__customer_id=ticket.customer_id,
            direction=MessageDirection.INBOUND,
            channel=channel,
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
