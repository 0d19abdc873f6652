"""Channel rules that apply before a message may be sent."""

from datetime import timedelta

from django.utils import timezone

from core.errors import ApplicationError
from tickets.models import ChannelKind, Ticket
from tickets.selectors import get_last_inbound_at

# WhatsApp only allows free-form business messages within 24 hours of the customer's last message.
WHATSAPP_SESSION_WINDOW = timedelta(hours=24)


def ensure_channel_can_send(*, ticket: Ticket, channel: str) -> None:
    """Raise a clear error when `channel` may not carry a free-form reply on `ticket` now."""
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
