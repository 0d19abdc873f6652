"""Processing of stored Meta events: Messenger/Instagram messages, postbacks (buttons, Get
Started, ice breakers), echoes of what the Page sent, delivery and read receipts.

Every customer message or postback asks once for the sender's profile (`fetch_meta_profile`)."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

from core.errors import NotFound
from core.tasks import enqueue_on_commit
from integrations.inbound import InboundMessage, receive_external_reply, receive_message
from integrations.meta import client as meta
from integrations.models import WebhookEvent, WebhookStatus
from integrations.tasks import fetch_meta_profile
from tickets.attachments import InboundFile
from tickets.models import (
    ChannelKind,
    DeliveryStatus,
    IdentityKind,
    MessageDirection,
    TicketMessage,
)
from tickets.selectors import get_identity, has_queued_message_like, is_provider_message_known
from tickets.services import update_delivery_status

# Meta says only the kind of file; the real type is sniffed from the bytes once downloaded.
ATTACHMENT_TYPES = {"image": "image/*", "video": "video/*", "audio": "audio/*"}
META_INBOX = "sent from Meta inbox"


def handle_event(event: WebhookEvent) -> WebhookStatus:
    item = event.payload["messaging"]
    is_instagram = event.payload.get("object") == "instagram"
    if event.kind == "message":
        return handle_message(item, is_instagram=is_instagram)
    if event.kind == "postback":
        return handle_postback(item, event_id=event.event_id, is_instagram=is_instagram)
    if event.kind == "echo":
        return handle_echo(item, is_instagram=is_instagram)
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
    # A quick reply's text is the button's title; its payload stands in when there is none.
    quick_reply = message.get("quick_reply") if isinstance(message.get("quick_reply"), dict) else {}
    text = (message.get("text") or quick_reply.get("payload") or "").strip()
    receive_message(
        inbound=InboundMessage(
            channel=_channel(is_instagram),
            identity_kind=_identity_kind(is_instagram),
            identity_value=str(item["sender"]["id"]),
            body=text or f"({len(attachments)} attachment(s))",
            attachments=attachments,
            provider="meta",
            provider_message_id=message["mid"],
        )
    )
    request_profile(user_id=str(item["sender"]["id"]), is_instagram=is_instagram)
    return WebhookStatus.PROCESSED


def handle_postback(item: dict, *, event_id: str, is_instagram: bool) -> WebhookStatus:
    """A tapped button, Get Started or ice breaker is the customer's message: its title (what
    they saw and tapped), else its payload."""
    postback = item["postback"]
    text = str(postback.get("title") or postback.get("payload") or "").strip()
    receive_message(
        inbound=InboundMessage(
            channel=_channel(is_instagram),
            identity_kind=_identity_kind(is_instagram),
            identity_value=str(item["sender"]["id"]),
            body=text or "(button tapped)",
            provider="meta",
            provider_message_id=event_id,
        )
    )
    request_profile(user_id=str(item["sender"]["id"]), is_instagram=is_instagram)
    return WebhookStatus.PROCESSED


def handle_echo(item: dict, *, is_instagram: bool) -> WebhookStatus:
    """What the Page sent, echoed. Our own sends are already recorded (they carry our
    metadata, or are still in flight with the same text); a reply typed in Meta's own inbox
    is recorded as an outbound message by "sent from Meta inbox"."""
    message = item["message"]
    recipient = str(item.get("recipient", {}).get("id", ""))
    files = [a for a in message.get("attachments") or [] if isinstance(a, dict)]
    body = str(message.get("text") or "").strip() or f"({len(files)} attachment(s))"
    channel = _channel(is_instagram)
    if (
        str(message.get("metadata") or "").startswith(meta.OUR_METADATA_PREFIX)
        or is_provider_message_known(provider="meta", provider_message_id=message["mid"])
        or has_queued_message_like(channel=channel, recipient=recipient, body=body)
    ):
        return WebhookStatus.IGNORED
    receive_external_reply(
        reply=InboundMessage(
            channel=channel,
            identity_kind=_identity_kind(is_instagram),
            identity_value=recipient,
            body=body,
            provider="meta",
            provider_message_id=message["mid"],
        ),
        external_author=META_INBOX,
    )
    return WebhookStatus.PROCESSED


def request_profile(*, user_id: str, is_instagram: bool) -> None:
    """Fetch the person's name and picture once (after commit, on a task)."""
    identity = get_identity(kind=_identity_kind(is_instagram), value=user_id)
    if identity is not None and identity.profile_fetched_at is None and meta.is_configured():
        enqueue_on_commit(fetch_meta_profile, identity_id=identity.pk)


def _channel(is_instagram: bool) -> str:
    return ChannelKind.INSTAGRAM if is_instagram else ChannelKind.FACEBOOK


def _identity_kind(is_instagram: bool) -> str:
    return IdentityKind.INSTAGRAM if is_instagram else IdentityKind.FACEBOOK


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
