"""Collision detection: who has a ticket open (per socket), and refusing a reply that would
cross one sent meanwhile. Imports only models, so `tickets.services` can call it without a cycle.
"""

from accounts.models import User
from automation.models import TicketViewer
from comms.models import PresenceConnection
from core.errors import Conflict
from tickets.models import MessageDirection, Ticket, TicketMessage


def check_reply_collision(*, ticket: Ticket, user: User, last_seen_message_id: int | None) -> None:
    """Refuse (409 `reply_collision`) when someone else replied after the message the agent saw.

    The reply form carries the newest message id it rendered; a confirmed resend skips this.
    """
    if last_seen_message_id is None:
        return
    newer = (
        TicketMessage.objects.filter(
            ticket=ticket, direction=MessageDirection.OUTBOUND, pk__gt=last_seen_message_id
        )
        .exclude(author=user)
        .select_related("author")
        .order_by("pk")
        .first()
    )
    if newer is None:
        return
    who = newer.author.short_name if newer.author_id else "An automated message"
    raise Conflict(
        f"{who} replied to this customer while you were writing. Read the new reply, then send "
        "yours anyway if it still fits.",
        code="reply_collision",
    )


def start_viewing(*, user: User, reference: str, channel_name: str) -> None:
    """Record that this socket has the ticket open (the consumer checked the subscription).

    Rows of sockets whose process died (their presence connection was swept) go here too.
    """
    TicketViewer.objects.exclude(
        channel_name__in=PresenceConnection.objects.values("channel_name")
    ).delete()
    TicketViewer.objects.get_or_create(
        channel_name=channel_name, reference=reference, defaults={"user": user}
    )


def stop_viewing(*, channel_name: str, reference: str | None = None) -> list[str]:
    """Forget this socket's viewing (of one ticket, or all); returns the references it left."""
    rows = TicketViewer.objects.filter(channel_name=channel_name)
    if reference is not None:
        rows = rows.filter(reference=reference)
    references = sorted(set(rows.values_list("reference", flat=True)))
    rows.delete()
    return references
