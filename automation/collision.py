"""Collision detection: who has a ticket open (per socket). Refusing a reply that would cross
one sent meanwhile is a tickets rule (`tickets.policy.check_reply_collision`)."""

from accounts.models import User
from automation.models import TicketViewer
from comms.models import PresenceConnection


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
