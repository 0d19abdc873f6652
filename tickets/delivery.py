"""Outbound delivery bookkeeping on ticket messages, called by integrations' router and views:
send attempts, the email headers that thread a customer's reply back (`tickets/threading.py`
reads them), and staff retries of failed sends."""

import re
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from accounts.models import User
from accounts.permissions import Action, require
from core.errors import Conflict, NotFound
from core.events import publish_on_commit
from tickets import events
from tickets.models import DeliveryStatus, MessageDirection, TicketMessage
from tickets.policy import ensure_channel_can_send
from tickets.services import publish_ticket_updated_on_commit, update_delivery_status

REFERENCES_LIMIT = 10


@dataclass(frozen=True)
class EmailThreading:
    subject: str
    message_id: str
    in_reply_to: str
    references: str


@transaction.atomic
def record_send_attempt(*, message_id: int) -> int:
    """Count one send attempt and return the attempt number (1 for the first)."""
    TicketMessage.objects.filter(pk=message_id).update(send_attempts=F("send_attempts") + 1)
    return TicketMessage.objects.values_list("send_attempts", flat=True).get(pk=message_id)


def email_subject(*, subject: str, reference: str) -> str:
    subject = re.sub(r"^\s*((re|fwd?|aw|sv)\s*:\s*)+", "", subject, flags=re.IGNORECASE).strip()
    tag = f"[{reference}]"
    if tag not in subject:
        subject = f"{subject} {tag}".strip()
    return f"Re: {subject}"


@transaction.atomic
def prepare_email_threading(*, message_id: int, domain: str) -> EmailThreading:
    """Give an outbound email its own Message-ID and the headers that thread the reply.

    The Message-ID is stored before sending, so the customer's reply (In-Reply-To) finds the
    ticket even if the provider's acknowledgement is lost. A retry reuses the stored id.
    """
    message = TicketMessage.objects.select_for_update().select_related("ticket").get(pk=message_id)
    earlier = list(
        TicketMessage.objects.filter(ticket_id=message.ticket_id, pk__lt=message.pk)
        .exclude(email_message_id="")
        .order_by("created_at", "pk")
        .values_list("email_message_id", "direction")
    )
    if not message.email_message_id:
        message.email_message_id = f"<pd.{message.pk}.{secrets.token_hex(8)}@{domain}>"
        inbound = [mid for mid, direction in earlier if direction == MessageDirection.INBOUND]
        message.in_reply_to = (inbound or [mid for mid, _ in earlier] or [""])[-1]
        message.save(update_fields=["email_message_id", "in_reply_to"])
    references = " ".join(mid for mid, _ in earlier[-REFERENCES_LIMIT:])
    return EmailThreading(
        subject=email_subject(subject=message.ticket.subject, reference=message.ticket.reference),
        message_id=message.email_message_id,
        in_reply_to=message.in_reply_to,
        references=references,
    )


@transaction.atomic
def requeue_failed_message(*, message: TicketMessage, actor: User) -> TicketMessage:
    """Staff retry of a failed outbound message: back to queued with a fresh attempt count;
    integrations sends it again after commit (`MessageRequeued`)."""
    require(actor, Action.REPLY_TICKET)
    message = (
        TicketMessage.objects.select_for_update()
        .select_related("ticket")
        .filter(pk=message.pk, direction=MessageDirection.OUTBOUND)
        .first()
    )
    if message is None:
        raise NotFound("No such outbound message.", code="message_not_found")
    if message.delivery_status != DeliveryStatus.FAILED:
        raise Conflict("Only a failed message can be retried.", code="not_failed")
    ensure_channel_can_send(
        ticket=message.ticket,
        channel=message.channel,
        is_human=message.author_id is not None and not message.is_automated,
        has_template=bool(message.content_sid),
    )
    message = update_delivery_status(message_id=message.pk, status=DeliveryStatus.QUEUED)
    TicketMessage.objects.filter(pk=message.pk).update(send_attempts=0)
    publish_on_commit(
        events.MessageRequeued(
            ticket_id=message.ticket_id, message_id=message.pk, actor_id=actor.pk
        )
    )
    publish_ticket_updated_on_commit(message.ticket)
    return message
