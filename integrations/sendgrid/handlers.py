"""Processing of stored SendGrid events: inbound email and delivery events."""

from email.parser import HeaderParser
from email.utils import parseaddr

from core.errors import NotFound
from integrations.inbound import (
    InboundMessage,
    html_to_text,
    is_auto_reply,
    receive_message,
    sanitize_email_html,
    sender_failed_authentication,
    trim_email_text,
)
from integrations.models import WebhookEvent, WebhookStatus
from integrations.sendgrid.client import MESSAGE_ID_ARG
from tickets.attachments import InboundFile
from tickets.consent import record_opt_in, record_opt_out
from tickets.models import ChannelKind, DeliveryStatus, IdentityKind, OptOutReason
from tickets.services import update_delivery_status

# A body cut for display (views.split_inbound) is attached whole (message.txt / message.html).
TRUNCATED_NOTE = (
    "\n\n[This email is shown shortened ({sizes} received); the whole message is attached, "
    "and kept as received with inbound webhook event #{event_id}.]"
)

EVENT_STATUS = {
    "processed": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "open": DeliveryStatus.READ,
    "bounce": DeliveryStatus.FAILED,
    "dropped": DeliveryStatus.FAILED,
}


def handle_event(event: WebhookEvent) -> WebhookStatus:
    if event.kind == "inbound":
        return handle_inbound_email(event.payload, event_id=event.pk)
    return handle_delivery_event(event.payload)


def handle_inbound_email(payload: dict, *, event_id: int) -> WebhookStatus:
    name, address = parseaddr(payload.get("from", ""))
    text = payload.get("text", "").replace("\r\n", "\n").strip()
    if not text and payload.get("html"):
        text = html_to_text(payload["html"])
    body = trim_email_text(text) if text else ""
    if payload.get("truncated"):
        sizes = ", ".join(f"{field} {size:,} bytes" for field, size in payload["truncated"].items())
        body += TRUNCATED_NOTE.format(sizes=sizes, event_id=event_id)
    attachments = [_inbound_file(item) for item in payload.get("attachments") or []]
    subject = payload.get("subject", "")
    mail_headers = HeaderParser().parsestr(payload.get("headers", ""))
    receive_message(
        inbound=InboundMessage(
            channel=ChannelKind.EMAIL,
            identity_kind=IdentityKind.EMAIL,
            identity_value=address,
            sender_name=name,
            subject=subject,
            body=body or f"({len(attachments)} attachment(s))",
            body_html=sanitize_email_html(payload.get("html", "")),
            original_body=text if text != body else "",
            attachments=attachments,
            provider="sendgrid",
            provider_message_id=payload["message_id"],
            email_message_id=payload["message_id"],
            in_reply_to=payload.get("in_reply_to", ""),
            references=payload.get("references", ""),
            is_auto_reply=is_auto_reply(headers=mail_headers, subject=subject),
            is_unverified_sender=sender_failed_authentication(
                from_address=address, dkim=payload.get("dkim", ""), spf=payload.get("SPF", "")
            ),
        )
    )
    return WebhookStatus.PROCESSED


def _inbound_file(item: dict) -> InboundFile:
    """A part stored by the Parse view (events stored before files were rows carry only a URL)."""
    return InboundFile(
        filename=str(item.get("filename") or item.get("name") or "attachment"),
        declared_type=str(item.get("declared_type") or item.get("content_type") or ""),
        storage_key=str(item.get("storage_key") or ""),
        size=item.get("size") if isinstance(item.get("size"), int) else None,
        sha256=str(item.get("sha256") or ""),
        content_type=str(item.get("content_type") or ""),
        content_id=str(item.get("content_id") or ""),
    )


# Events after which SendGrid suppresses the address (its suppression lists drop later mail).
SUPPRESSIONS = {
    "unsubscribe": OptOutReason.EMAIL_UNSUBSCRIBE,
    "group_unsubscribe": OptOutReason.EMAIL_GROUP_UNSUBSCRIBE,
    "spamreport": OptOutReason.EMAIL_SPAM_REPORT,
    "bounce": OptOutReason.EMAIL_BOUNCE,
    "dropped": OptOutReason.EMAIL_DROPPED,
}
# A `dropped` event suppresses only when the drop names a suppression list (or a bad address);
# other drops (quota, a bad request) say nothing about the recipient.
SUPPRESSED_DROP_REASONS = (
    "bounced address",
    "unsubscribed address",
    "spam reporting address",
    "invalid",
)


def handle_delivery_event(item: dict) -> WebhookStatus:
    suppressed = apply_suppression(item)
    status = EVENT_STATUS.get(item.get("event", ""))
    if status is None:
        return WebhookStatus.PROCESSED if suppressed else WebhookStatus.IGNORED
    failure = {}
    if status == DeliveryStatus.FAILED:
        failure = {
            "error_code": str(item.get("status") or item.get("event")),
            "error_message": str(item.get("reason") or item.get("response") or item["event"]),
        }
    our_id = str(item.get(MESSAGE_ID_ARG) or "")
    lookup = (
        {"message_id": int(our_id)}
        if our_id.isdigit()
        else {
            "provider": "sendgrid",
            "provider_message_id": str(item.get("sg_message_id", "")).split(".")[0],
        }
    )
    try:
        update_delivery_status(status=status, **lookup, **failure)
    except NotFound:
        return WebhookStatus.PROCESSED if suppressed else WebhookStatus.IGNORED
    return WebhookStatus.PROCESSED


def apply_suppression(item: dict) -> bool:
    """Record SendGrid's suppression of the address on the identity (or lift a group
    unsubscribe on `group_resubscribe`); True when an identity of ours changed or matched."""
    event, address = str(item.get("event", "")), str(item.get("email", ""))
    if event == "group_resubscribe":
        return bool(
            record_opt_in(
                kind=IdentityKind.EMAIL,
                value=address,
                reasons=(OptOutReason.EMAIL_GROUP_UNSUBSCRIBE,),
            )
        )
    reason = SUPPRESSIONS.get(event)
    detail = str(item.get("reason") or item.get("response") or "")
    if reason is None:
        return False
    if event == "bounce" and item.get("type") == "blocked":
        return False  # a block is the receiving server refusing for now, not a dead address
    if event == "dropped" and not detail.lower().startswith(SUPPRESSED_DROP_REASONS):
        return False
    return bool(
        record_opt_out(kind=IdentityKind.EMAIL, value=address, reason=reason, detail=detail)
    )
