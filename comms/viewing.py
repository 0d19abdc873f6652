"""Collision detection: which staff sockets have a ticket page open, announced to the ticket's
group as a `viewing` frame (docs/automation.md). Refusing a reply that would cross one sent
meanwhile is a tickets rule (`tickets.policy.check_reply_collision`)."""

from accounts.models import User
from comms.live import serialize_user
from comms.models import PresenceConnection, TicketViewer


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


def list_ticket_viewers(*, reference: str) -> list[User]:
    """Staff with a live socket on the ticket page, once each."""
    live = PresenceConnection.objects.values("channel_name")
    user_ids = (
        TicketViewer.objects.filter(reference=reference, channel_name__in=live)
        .values_list("user_id", flat=True)
        .distinct()
    )
    return list(User.objects.filter(pk__in=user_ids).order_by("username"))


def build_viewing_frame(*, reference: str) -> dict:
    """The `viewing` frame for a ticket group: everyone with the ticket open right now."""
    return {
        "type": "viewing",
        "ticket": reference,
        "viewers": [serialize_user(user) for user in list_ticket_viewers(reference=reference)],
    }
