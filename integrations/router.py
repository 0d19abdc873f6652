"""The omnichannel router: picks the provider client for an outbound message's channel and sends.

Every provider runs in sandbox mode until its credentials are configured: the message is
recorded as delivered to the sandbox, never silently dropped (DESIGN.md). Retryable failures
(timeouts, 429, 5xx) come back as a `Delivery` with `retry_in`; the task re-enqueues itself.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings

from core.errors import ApplicationError
from core.tasks import Backoff
from integrations import services
from integrations.clients import (
    OutboundFile,
    OutboundRequest,
    ProviderRejected,
    ProviderUnavailable,
    SandboxClient,
)
from integrations.meta import client as meta
from integrations.models import ChannelConfiguration
from integrations.sendgrid import client as sendgrid
from integrations.twilio import client as twilio
from integrations.webchat.client import WebChatClient
from integrations.webchat.selectors import offline_email_for
from tickets import delivery
from tickets.attachments import (
    SMS_LINK_MAX_AGE,
    list_outbound_files,
    public_link_url,
    read_attachment,
)
from tickets.consent import check_body_length, ensure_recipient_consents
from tickets.models import ChannelKind, DeliveryStatus
from tickets.policy import SendDecision, decide_send
from tickets.selectors import get_outbound_message, get_reply_address

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5
RETRY_BASE_SECONDS = 30


@dataclass(frozen=True)
class Delivery:
    status: str
    retry_in: timedelta | None = None


def send_backoff() -> Backoff:
    """Exponential: 30 s, 60 s, 120 s, ... after the 1st, 2nd, 3rd failed attempt."""
    return Backoff(
        attempts=getattr(settings, "OUTBOUND_MAX_SEND_ATTEMPTS", MAX_SEND_ATTEMPTS),
        first_delay=timedelta(
            seconds=getattr(settings, "OUTBOUND_RETRY_BASE_SECONDS", RETRY_BASE_SECONDS)
        ),
    )


def client_for(channel: str):
    """The provider client for `channel`, or the sandbox when its credentials are missing."""
    config = ChannelConfiguration.objects.filter(channel=channel).first()
    sender = config.sender if config else ""
    if channel == ChannelKind.EMAIL:
        if sendgrid.is_configured():
            return sendgrid.SendGridClient.from_settings(sender=sender)
        return SandboxClient(provider="sendgrid")
    if channel == ChannelKind.WEB:
        return WebChatClient()
    if channel in (ChannelKind.SMS, ChannelKind.WHATSAPP):
        if twilio.is_configured():
            return twilio.TwilioClient.from_settings(sender=sender)
        return SandboxClient(provider="twilio")
    if meta.is_configured():
        return meta.MetaClient.from_settings()
    return SandboxClient(provider="meta")


def deliver(*, message_id: int) -> Delivery:
    """One send attempt for a queued outbound message. No transaction is held across the call."""
    message = get_outbound_message(message_id=message_id)
    if message.delivery_status != DeliveryStatus.QUEUED:
        # Already sent (a duplicate task run) or failed and not yet retried by staff.
        return Delivery(status=message.delivery_status)
    attempt = delivery.record_send_attempt(message_id=message.pk)
    # Checked again at send time: the window may have closed while the message waited.
    decision = decide_send(
        ticket=message.ticket,
        channel=message.channel,
        is_human=message.author_id is not None and not message.is_automated,
        has_template=bool(message.content_sid),
    )
    if not decision.is_allowed:
        logger.warning("outbound.refused message=%s code=%s", message.pk, decision.code)
        services.mark_delivery_failed(
            message_id=message.pk, code=decision.code, error=decision.reason
        )
        return Delivery(status=DeliveryStatus.FAILED)
    # A web chat left while nobody was online is answered by email (and on the widget, should
    # the visitor still be there); the customer's email reply threads back by its headers.
    email_to = (
        offline_email_for(ticket_id=message.ticket_id) if message.channel == ChannelKind.WEB else ""
    )
    via = ChannelKind.EMAIL if email_to else message.channel
    client = client_for(via)
    try:
        request = build_request(
            message,
            decision=decision,
            is_sandbox=isinstance(client, SandboxClient),
            via=via,
            to=email_to,
        )
        # Again at send time: the customer may have opted out after the reply was queued.
        ensure_recipient_consents(channel=via, address=request.to)
        check_body_length(channel=via, body=request.body)
    except ApplicationError as exc:
        logger.info("outbound.refused message=%s code=%s", message.pk, exc.code)
        services.mark_delivery_failed(message_id=message.pk, code=exc.code, error=exc.message)
        return Delivery(status=DeliveryStatus.FAILED)
    except ProviderRejected as exc:
        logger.warning("outbound.rejected message=%s code=%s %s", message.pk, exc.code, exc)
        services.mark_delivery_failed(message_id=message.pk, code=exc.code, error=str(exc))
        return Delivery(status=DeliveryStatus.FAILED)
    try:
        if email_to:
            WebChatClient().send(build_request(message, decision=decision))
        result = client.send(request)
    except ProviderRejected as exc:
        logger.warning("outbound.rejected message=%s code=%s %s", message.pk, exc.code, exc)
        services.mark_delivery_failed(message_id=message.pk, code=exc.code, error=str(exc))
        return Delivery(status=DeliveryStatus.FAILED)
    except ProviderUnavailable as exc:
        retry_in = send_backoff().retry_in(attempt)
        if retry_in is None:
            logger.warning("outbound.gave_up message=%s attempts=%s %s", message.pk, attempt, exc)
            services.mark_delivery_failed(
                message_id=message.pk,
                code=exc.code,
                error=f"Gave up after {attempt} attempts: {exc}",
            )
            return Delivery(status=DeliveryStatus.FAILED)
        logger.info("outbound.retry message=%s attempt=%s %s", message.pk, attempt, exc)
        return Delivery(status=DeliveryStatus.QUEUED, retry_in=retry_in)
    services.record_send_result(message_id=message.pk, result=result)
    return Delivery(status=result.status)


def build_request(
    message, *, decision: SendDecision, is_sandbox: bool = False, via: str = "", to: str = ""
) -> OutboundRequest:
    """The provider request for `message`, on its own channel or `via` another one to `to`."""
    via = via or message.channel
    try:
        recipient = to or recipient_for(message)
    except ProviderRejected:
        if not is_sandbox:
            raise
        recipient = "(no address on file)"
    files = tuple(outbound_file(a) for a in list_outbound_files(message_id=message.pk))
    if via != ChannelKind.EMAIL:
        return OutboundRequest(
            message_id=message.pk,
            channel=via,
            to=recipient,
            body=message.body,
            files=files,
            messaging_type=decision.messaging_type,
            tag=decision.tag,
            content_sid=message.content_sid,
            content_variables=message.content_variables,
        )
    headers = delivery.prepare_email_threading(
        message_id=message.pk,
        domain=settings.SENDGRID_FROM_EMAIL.rpartition("@")[2] or "printdesk.local",
    )
    return OutboundRequest(
        message_id=message.pk,
        channel=via,
        to=recipient,
        body=message.body,
        subject=headers.subject,
        headers={
            "Message-ID": headers.message_id,
            "In-Reply-To": headers.in_reply_to,
            "References": headers.references,
        },
        files=files,
    )


def outbound_file(attachment) -> OutboundFile:
    """What a client needs of a file: its bytes on demand (email, Meta upload) and public links
    (Twilio fetches `media_url`; an SMS without MMS carries `link_url` in its text)."""
    return OutboundFile(
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size or 0,
        media_url=public_link_url(attachment),
        link_url=public_link_url(attachment, max_age=SMS_LINK_MAX_AGE),
        read=partial(read_attachment, attachment, max_bytes=settings.ATTACHMENT_UPLOAD_MAX_BYTES),
    )


def recipient_for(message) -> str:
    """The message's own recipient, else where a reply on its channel goes (a web chat's
    address is its ticket: the widget group of its visitors)."""
    if message.channel == ChannelKind.WEB and not message.recipient:
        return message.ticket.reference
    recipient = message.recipient or get_reply_address(
        ticket=message.ticket, channel=message.channel
    )
    if recipient:
        return recipient
    raise ProviderRejected(
        f"The customer has no {message.get_channel_display()} address to send to.",
        code="no_recipient",
    )
