"""Processing of stored Meta events: Messenger/Instagram messages, delivery and read receipts."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

from core.errors import NotFound
from integrations.inbound import InboundMessage, receive_message
from integrations.models import WebhookEvent, WebhookStatus
from tickets.attachments import InboundFile
from tickets.models import (
    ChannelKind,
    DeliveryStatus,
    IdentityKind,
    MessageDirection,
    TicketMessage,
)
from tickets.services import update_delivery_status

# Meta says only the kind of file; the real type is sniffed from the bytes once downloaded.
ATTACHMENT_TYPES = {"image": "image/*", "video": "video/*", "audio": "audio/*"}


def handle_event(event: WebhookEvent) -> WebhookStatus:
    item = event.payload["messaging"]
    is_instagram = event.payload.get("object") == "instagram"
    if event.kind == "message":
        return handle_message(item, is_instagram=is_instagram)
    status = DeliveryStatus.DELIVERED if event.kind == "delivery" else DeliveryStatus.READ
    receipt = item.get("delivery") or item.get("read") or {}
    return handle_receipt(receipt, status=status, user_id=str(item.get("sender", {}).get("id", "")))


def handle_message(item: dict, *, is_instagram: bool) -> WebhookStatus:
    message = item["message"]
    attachments = [
        InboundFile(
            filename=_attachment_name(attachment),
            declared_type=ATTACHMENT_TYPES.get(attachment.get("type"), ""),
            source_url=str(attachment["payload"]["url"]),
        )
        for attachment in message.get("attachments") or []
        if isinstance(attachment, dict)
        and isinstance(attachment.get("payload"), dict)
        and attachment["payload"].get("url")
    ]
    receive_message(
        inbound=InboundMessage(
            channel=ChannelKind.INSTAGRAM if is_instagram else ChannelKind.FACEBOOK,
            identity_kind=IdentityKind.INSTAGRAM if is_instagram else IdentityKind.FACEBOOK,
            identity_value=str(item["sender"]["id"]),
            body=(message.get("text") or "").strip() or f"({len(attachments)} attachment(s))",
            attachments=attachments,
            provider="meta",
            provider_message_id=message["mid"],
        )
    )
    return WebhookStatus.PROCESSED


def _attachment_name(attachment: dict) -> str:
    """Meta's CDN path ends in the file name (before the query string)."""
    path = urlsplit(str(attachment["payload"]["url"])).path
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return name or f"{attachment.get('type') or 'file'}"


def handle_receipt(receipt: dict, *, status: str, user_id: str) -> WebhookStatus:
    """Receipts name messages by mid, or by a watermark: everything sent up to that time."""
    message_ids = list(receipt.get("mids") or [])
    if receipt.get("mid"):
        message_ids.append(receipt["mid"])
    if not message_ids and receipt.get("watermark"):
        watermark = datetime.fromtimestamp(int(receipt["watermark"]) / 1000, tz=UTC)
        message_ids = list(
            TicketMessage.objects.filter(
                provider="meta",
                direction=MessageDirection.OUTBOUND,
                ticket__customer__identities__value=user_id,
                ticket__customer__identities__kind__in=(
                    IdentityKind.FACEBOOK,
                    IdentityKind.INSTAGRAM,
                ),
                sent_at__lte=watermark,
            ).values_list("provider_message_id", flat=True)
        )
    updated = 0
    for provider_message_id in message_ids:
        try:
            update_delivery_status(
                provider="meta", provider_message_id=provider_message_id, status=status
            )
        except NotFound:
            continue
        updated += 1
    return WebhookStatus.PROCESSED if updated else WebhookStatus.IGNORED
