"""Rules a reply must pass before it is stored: the channel may carry it now (the customer did
not opt out, `tickets/consent.py`; WhatsApp's 24-hour window) and nobody answered the customer
meanwhile (reply collision). They read only tickets' own data and run synchronously, so a
refused reply is never queued."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from core.errors import ApplicationError, Conflict
from tickets.consent import ensure_recipient_consents
from tickets.models import ChannelKind, MessageDirection, Ticket, TicketMessage
from tickets.selectors import get_last_inbound_at, get_reply_address

# WhatsApp only allows free-form business messages within 24 hours of the customer's last message.
WHATSAPP_SESSION_WINDOW = timedelta(hours=24)


def ensure_channel_can_send(*, ticket: Ticket, channel: str) -> None:
    """Raise a clear error when `channel` may not carry a free-form reply on `ticket` now."""
    ensure_recipient_consents(
        channel=channel, address=get_reply_address(ticket=ticket, channel=channel)
    )
    if channel != ChannelKind.WHATSAPP:
        return
    last_inbound_at = get_last_inbound_at(ticket=ticket, channel=ChannelKind.WHATSAPP)
    if last_inbound_at is None or timezone.now() - last_inbound_at > WHATSAPP_SESSION_WINDOW:
        raise ApplicationError(
            "WhatsApp only allows replies within 24 hours of the customer's last WhatsApp "
            "message. Reply on another channel, or wait for the customer to write again.",
            code="whatsapp_window_closed",
            status=409,
            fields={"channel": ["The WhatsApp 24-hour window is closed."]},
        )


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
