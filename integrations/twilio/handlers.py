"""Processing of stored Twilio webhook events (runs as a task after the webhook answered)."""

import mimetypes

from core.errors import NotFound
from integrations.inbound import InboundMessage, receive_message
from integrations.models import WebhookEvent, WebhookStatus
from tickets.attachments import InboundFile
from tickets.consent import SmsKeyword, record_opt_in, record_opt_out, sms_keyword
from tickets.models import ChannelKind, DeliveryStatus, IdentityKind, OptOutReason
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
        InboundFile(
            filename=_media_name(params, index),
            declared_type=params.get(f"MediaContentType{index}", ""),
            source_url=params[f"MediaUrl{index}"],
        )
        for index in range(_num_media(params))
        if params.get(f"MediaUrl{index}")
    ]
    body = params.get("Body", "").strip() or f"({len(media)} attachment(s))"
    identity_kind = IdentityKind.WHATSAPP if is_whatsapp else IdentityKind.PHONE
    receive_message(
        inbound=InboundMessage(
            channel=ChannelKind.WHATSAPP if is_whatsapp else ChannelKind.SMS,
            identity_kind=identity_kind,
            identity_value=sender,
            sender_name=params.get("ProfileName", ""),
            body=body,
            attachments=media,
            provider="twilio",
            provider_message_id=params.get("MessageSid") or params["SmsSid"],
        )
    )
    apply_consent_keyword(params, kind=identity_kind, sender=sender)
    return WebhookStatus.PROCESSED


def apply_consent_keyword(params: dict, *, kind: str, sender: str) -> None:
    """STOP/START as Twilio saw them (`OptOutType`, Advanced Opt-Out) or as the body says: Twilio
    refuses sends after a STOP (21610), so we stop first and say why (docs/channels.md)."""
    body = params.get("Body", "")
    keyword = sms_keyword(body=body, opt_out_type=params.get("OptOutType", ""))
    if keyword == SmsKeyword.STOP:
        record_opt_out(
            kind=kind, value=sender, reason=OptOutReason.SMS_STOP, detail=f"Texted {body.strip()!r}"
        )
    elif keyword == SmsKeyword.START:
        record_opt_in(kind=kind, value=sender, reasons=(OptOutReason.SMS_STOP,))


def _num_media(params: dict) -> int:
    value = str(params.get("NumMedia") or "0")
    return min(int(value), 10) if value.isdigit() else 0  # Twilio sends at most 10


def _media_name(params: dict, index: int) -> str:
    """Twilio sends no file names: the media SID plus an extension for the declared type."""
    sid = params[f"MediaUrl{index}"].rstrip("/").rsplit("/", 1)[-1] or f"media{index}"
    extension = mimetypes.guess_extension(params.get(f"MediaContentType{index}", "")) or ""
    return f"{sid}{extension}"


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
