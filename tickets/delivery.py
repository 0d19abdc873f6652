"""Outbound delivery bookkeeping on ticket messages, called by integrations' router and views:
send claims (at most once on the wire), the email headers that thread a customer's reply back
(`tickets/threading.py` reads them), and staff retries of failed sends."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

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
def claim_send(*, message_id: int) -> int | None:
    """Claim a queued outbound message for one send attempt: the attempt number (1 for the
    first), or None when it is not queued (sent, failed, or another worker claimed it first).

    One conditional UPDATE ... WHERE delivery_status = 'queued': of two workers racing on a
    message exactly one changes the row (PostgreSQL re-reads the WHERE after the winner
    commits; SQLite serializes writers), so the provider is called at most once per claim.
    """
    claimed = TicketMessage.objects.filter(
        pk=message_id, direction=MessageDirection.OUTBOUND, delivery_status=DeliveryStatus.QUEUED
    ).update(
        delivery_status=DeliveryStatus.SENDING,
        delivery_changed_at=timezone.now(),
        send_attempts=F("send_attempts") + 1,
    )
    if not claimed:
        return None
    return TicketMessage.objects.values_list("send_attempts", flat=True).get(pk=message_id)


@transaction.atomic
def touch_stuck_queued(*, message_id: int, before: datetime) -> bool:
    """Mark a message queued since before `before` as just re-enqueued; False when it moved or
    another sweep got it first (a conditional UPDATE, so it is enqueued once)."""
    return bool(
        TicketMessage.objects.filter(
            unchanged_since(before), pk=message_id, delivery_status=DeliveryStatus.QUEUED
        ).update(delivery_changed_at=timezone.now())
    )


def unchanged_since(before: datetime) -> Q:
    """Messages whose delivery status has not changed since `before` (created then, if never)."""
    return Q(delivery_changed_at__lt=before) | Q(
        delivery_changed_at__isnull=True, created_at__lt=before
    )


@transaction.atomic
def release_send(*, message_id: int) -> bool:
    """Give a claim back (queued) after a failure the provider surely did not act on: nothing
    reached it (connection refused, DNS, connect timeout) or it answered (429, 5xx)."""
    return bool(
        TicketMessage.objects.filter(pk=message_id, delivery_status=DeliveryStatus.SENDING).update(
            delivery_status=DeliveryStatus.QUEUED, delivery_changed_at=timezone.now()
        )
    )


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
    """Staff retry of a failed outbound message, or of one whose outcome is unknown (staff
    decided the customer did not get it): back to queued with a fresh attempt count;
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
    if message.delivery_status not in (DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN):
        raise Conflict(
            "Only a failed message, or one whose outcome is unknown, can be sent again.",
            code="not_failed",
        )
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
