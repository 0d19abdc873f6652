"""Processing of stored Twilio webhook events (runs as a task after the webhook answered)."""

from core.errors import NotFound
from integrations.inbound import InboundMessage, receive_message
from integrations.models import WebhookEvent, WebhookStatus
from tickets.models import ChannelKind, DeliveryStatus, IdentityKind
from tickets.services import update_delivery_status

# Twilio MessageStatus -> ours; the rest (accepted, queued, sending, ...) say nothing new.
STATUS_MAP = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
    "undelivered": DeliveryStatus.FAILED,
}


def handle_event(event: WebhookEvent) -> WebhookStatus:
    if event.kind == "status":
        return handle_status(event.payload)
    return handle_message(event.payload)


def handle_message(params: dict) -> WebhookStatus:
    sender = params.get("From", "")
    is_whatsapp = sender.startswith("whatsapp:")
    media = [
        {
            "url": params[f"MediaUrl{index}"],
            "content_type": params.get(f"MediaContentType{index}", ""),
        }
        for index in range(int(params.get("NumMedia") or 0))
        if params.get(f"MediaUrl{index}")
    ]
    body = params.get("Body", "").strip() or f"({len(media)} attachment(s))"
    receive_message(
        inbound=InboundMessage(
            channel=ChannelKind.WHATSAPP if is_whatsapp else ChannelKind.SMS,
            identity_kind=IdentityKind.WHATSAPP if is_whatsapp else IdentityKind.PHONE,
            identity_value=sender,
            sender_name=params.get("ProfileName", ""),
            body=body,
            attachments=media,
            provider="twilio",
            provider_message_id=params.get("MessageSid") or params["SmsSid"],
        )
    )
    return WebhookStatus.PROCESSED


def handle_status(params: dict) -> WebhookStatus:
    status = STATUS_MAP.get(params.get("MessageStatus", ""))
    if status is None:
        return WebhookStatus.IGNORED
    try:
        update_delivery_status(
            provider="twilio",
            provider_message_id=params.get("MessageSid") or params.get("SmsSid"),
            status=status,
            error_code=params.get("ErrorCode", "") if status == DeliveryStatus.FAILED else "",
            error_message=params.get("ErrorMessage", "")
            or (f"Twilio error {params['ErrorCode']}" if params.get("ErrorCode") else ""),
        )
    except NotFound:
        return WebhookStatus.IGNORED
    return WebhookStatus.PROCESSED
