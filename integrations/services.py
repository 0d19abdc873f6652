"""Integration writes: what a provider answered to a send (through tickets' delivery status
service), and replaying status callbacks that arrived before it. The message-side bookkeeping
(attempts, email threading headers, staff retries) is `tickets/delivery.py`."""

from functools import partial

from django.core.files.storage import default_storage
from django.db import transaction

from core.redaction import mask_text, mentions_any
from integrations.clients import SendResult
from integrations.models import (
    PerpSyncLog,
    ShopifySyncLog,
    WebChatConversation,
    WebhookEvent,
    WebhookStatus,
)
from integrations.webhooks import process_webhook_event
from tickets.models import DeliveryStatus, TicketMessage
from tickets.services import update_delivery_status


def mark_delivery_failed(
    *, message_id: int, code: str, error: str, subcode: str = ""
) -> TicketMessage:
    return update_delivery_status(
        message_id=message_id,
        status=DeliveryStatus.FAILED,
        error_code=code or "send_failed",
        error_subcode=subcode,
        error_message=error,
    )


def mark_outcome_unknown(*, message_id: int, code: str, error: str) -> TicketMessage:
    return update_delivery_status(
        message_id=message_id,
        status=DeliveryStatus.UNKNOWN,
        error_code=code or "no_answer",
        error_message=error,
    )


def requeue_unknown(*, message_id: int) -> TicketMessage:
    """The provider has no record of a message whose send got no answer: queued again."""
    return update_delivery_status(message_id=message_id, status=DeliveryStatus.QUEUED)


@transaction.atomic
def record_send_result(*, message_id: int, result: SendResult) -> TicketMessage:
    """Store the provider's id and status, then replay status callbacks that arrived first.

    Twilio may call the status webhook before the send call has returned here (or before a
    reconciliation found the message): such callbacks were stored as ignored (no message had
    that id yet) and now run again, and so do ones still being processed, which may be about
    to find nothing. Status updates only move forward, so running one twice changes nothing.
    """
    message = update_delivery_status(
        message_id=message_id,
        provider=result.provider,
        provider_message_id=result.provider_message_id,
        status=result.status,
        is_sandbox=result.is_sandbox,
    )
    early_callbacks = WebhookEvent.objects.filter(
        provider=result.provider,
        status__in=(WebhookStatus.IGNORED, WebhookStatus.RECEIVED),
        event_id__startswith=f"{result.provider_message_id}:",
    ).values_list("pk", flat=True)
    for event_id in early_callbacks:
        transaction.on_commit(partial(process_webhook_event.enqueue, event_id=event_id))
    return message


# Privacy ---------------------------------------------------------------------------------------


ERASED_WEBHOOK = {"raw_body": b"", "raw_file": "", "payload": {"erased": True}, "error": ""}


def _erase_webhooks(events) -> int:
    """Bodies (and large bodies' files, after commit) go; id, topic, status and times stay."""
    for name in events.exclude(raw_file="").values_list("raw_file", flat=True):
        transaction.on_commit(partial(default_storage.delete, name), robust=True)
    return events.update(**ERASED_WEBHOOK, text_repairs=[])


@transaction.atomic
def redact_stored_webhooks(*, needles: list[str]) -> int:
    """Erasure (docs/privacy.md): every stored provider call that mentions the person keeps its
    id, topic, status and times (the replay log stays whole) but loses its body."""
    if not needles:
        return 0
    events = WebhookEvent.objects.filter(
        mentions_any(["payload", "error", "text_repairs"], needles, binary_fields=["raw_body"])
    )
    changed = _erase_webhooks(events)
    for model in (ShopifySyncLog, PerpSyncLog):
        for log in model.objects.filter(mentions_any(["error"], needles)):
            log.error = mask_text(log.error, needles)
            log.save(update_fields=["error"])
            changed += 1
    return changed


@transaction.atomic
def redact_provider_webhooks(*, provider: str) -> int:
    """shop/redact (docs/privacy.md): every stored call from the provider loses its body."""
    return _erase_webhooks(
        WebhookEvent.objects.filter(provider=provider).exclude(payload={"erased": True})
    )


@transaction.atomic
def redact_web_conversations(*, ticket_ids: list[int]) -> int:
    """Erasure: the web chat context of the customer's tickets (emails, page, cart, order) goes;
    the conversation row stays so the visitor's token no longer shows anything personal."""
    return WebChatConversation.objects.filter(ticket_id__in=ticket_ids).update(
        verified_email="", contact_email="", page_url="", cart={}, order_number=""
    )
