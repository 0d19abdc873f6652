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
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    SandboxClient,
    may_have_arrived,
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
from tickets.selectors import (
    get_outbound_message,
    get_reply_address,
    is_provider_message_known,
)

logger = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS = 5
RETRY_BASE_SECONDS = 30
# A reconciliation looks for the message from this long before its claim (clock skew, and the
# provider's own creation time).
RECONCILE_SKEW = timedelta(minutes=2)


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
    """One send attempt for a queued outbound message. No transaction is held across the call.

    The message is claimed first (queued → sending, one conditional UPDATE), so of two workers
    running it only one calls the provider. A send that got no answer after the request left
    is never retried blindly: it is reconciled with the provider first (`settle_unknown`).
    """
    message = get_outbound_message(message_id=message_id)
    attempt = delivery.claim_send(message_id=message.pk)
    if attempt is None:
        # Sent, failed, or claimed by another worker (a duplicate task run, a sweep).
        return Delivery(status=get_outbound_message(message_id=message_id).delivery_status)
    # Checked again at send time: the window may have closed while the message waited.
    decision = send_decision(message)
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
        if email_to:
            WebChatClient().send(build_request(message, decision=decision))
        result = client.send(request)
    except ApplicationError as exc:
        logger.info("outbound.refused message=%s code=%s", message.pk, exc.code)
        services.mark_delivery_failed(message_id=message.pk, code=exc.code, error=exc.message)
        return Delivery(status=DeliveryStatus.FAILED)
    except ProviderRejected as exc:
        logger.warning("outbound.rejected message=%s code=%s %s", message.pk, exc.code, exc)
        services.mark_delivery_failed(
            message_id=message.pk, code=exc.code, subcode=exc.subcode, error=str(exc)
        )
        return Delivery(status=DeliveryStatus.FAILED)
    except ProviderUnavailable as exc:
        if may_have_arrived(exc):
            logger.warning("outbound.no_answer message=%s %s", message.pk, exc)
            services.mark_outcome_unknown(
                message_id=message.pk,
                code=exc.code,
                error=f"No answer from {client.provider} after the message was handed over: {exc}",
            )
            return settle_unknown(message_id=message.pk)
        delivery.release_send(message_id=message.pk)
        return retry_later(message_id=message.pk, attempt=attempt, error=exc)
    services.record_send_result(message_id=message.pk, result=result)
    return Delivery(status=result.status)


def retry_later(*, message_id: int, attempt: int, error: ProviderError) -> Delivery:
    """A queued message that failed retryably: when to try again, or failed after the last."""
    retry_in = send_backoff().retry_in(attempt)
    if retry_in is None:
        logger.warning("outbound.gave_up message=%s attempts=%s %s", message_id, attempt, error)
        services.mark_delivery_failed(
            message_id=message_id,
            code=error.code,
            subcode=error.subcode,
            error=f"Gave up after {attempt} attempts: {error}",
        )
        return Delivery(status=DeliveryStatus.FAILED)
    logger.info("outbound.retry message=%s attempt=%s %s", message_id, attempt, error)
    return Delivery(status=DeliveryStatus.QUEUED, retry_in=retry_in)


def settle_unknown(*, message_id: int) -> Delivery:
    """Find out whether the provider holds a message whose send got no answer.

    Twilio: the latest messages to that number are listed and matched on body (and sender)
    since the claim; found → sent with its SID, absent → the request never arrived, queued
    again. SendGrid: our `pd_message_id` custom arg comes back on the Event Webhook, which moves
    it to sent; the sweeper sends again when no event came (`RECONCILE_WAIT`). Meta has neither
    a lookup nor an idempotency key: it stays unknown and staff decide ("Send again").
    """
    message = get_outbound_message(message_id=message_id)
    if message.delivery_status != DeliveryStatus.UNKNOWN:
        return Delivery(status=message.delivery_status)
    client = client_for(message.channel)
    if not hasattr(client, "find_sent"):
        return Delivery(status=DeliveryStatus.UNKNOWN)
    # Unknown keeps the time of the claim (`update_delivery_status`).
    since = (message.delivery_changed_at or message.created_at) - RECONCILE_SKEW
    try:
        # What was sent: the same text and address (the decision's tag matters only to Meta).
        request = build_request(message, decision=send_decision(message))
        found = [
            result
            for result in client.find_sent(request, since=since)
            if not is_provider_message_known(
                provider=result.provider, provider_message_id=result.provider_message_id
            )
        ]
    except ProviderError as exc:
        # Still unknown; the periodic sweep asks again.
        logger.warning("outbound.reconcile_failed message=%s %s", message_id, exc)
        return Delivery(status=DeliveryStatus.UNKNOWN)
    if found:
        logger.info(
            "outbound.reconciled message=%s id=%s", message_id, found[-1].provider_message_id
        )
        # The oldest match after the claim is ours; later ones would be other sends.
        services.record_send_result(message_id=message_id, result=found[-1])
        return Delivery(status=found[-1].status)
    logger.info("outbound.not_at_provider message=%s", message_id)
    services.requeue_unknown(message_id=message_id)
    return retry_later(
        message_id=message_id,
        attempt=message.send_attempts,
        error=ProviderUnavailable(message.error_message, code=message.error_code),
    )


def send_decision(message) -> SendDecision:
    return decide_send(
        ticket=message.ticket,
        channel=message.channel,
        is_human=message.author_id is not None and not message.is_automated,
        has_template=bool(message.content_sid),
    )


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
            **automated_mail_headers(message),
        },
        files=files,
    )


def automated_mail_headers(message) -> dict[str, str]:
    """RFC 3834 marks for mail no person wrote, so that the customer's auto-responder does not
    answer it (and loop with our rules): a rule's reply is `auto-replied`, a system message
    (CSAT survey, proof link) `auto-generated`; Exchange reads X-Auto-Response-Suppress."""
    if not message.is_automated:
        return {}
    return {
        "Auto-Submitted": "auto-replied" if message.author_id else "auto-generated",
        "X-Auto-Response-Suppress": "OOF, AutoReply",
    }


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
