"""What every inbound provider webhook shares, after its own signature check.

STYLE.md order: (1) the provider view verifies the signature over the raw request and answers
401/403 on failure, storing nothing; (2) `record_webhook_event` stores the verified call, unique on
(provider, event_id), so a replay is a 200 no-op; (3) processing runs after commit as a task
(queue `realtime`) that calls the provider's handler and records its status and error.

With the database task backend the event row and its task row are written in one transaction
(`core.tasks.enqueue_on_commit`): one commit per message, and no crash between two commits can
leave a stored event that nothing will process (docs/decisions.md, issue 18).
"""

import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task

from core import queues
from core.tasks import enqueue_on_commit
from integrations.models import WebhookEvent, WebhookStatus

logger = logging.getLogger(__name__)

# provider -> dotted path of `handle(event: WebhookEvent) -> WebhookStatus`. Each handler calls
# services and raises on failure; it is imported lazily so providers don't import each other.
HANDLERS: dict[str, str] = {
    "twilio": "integrations.twilio.handlers.handle_event",
    "sendgrid": "integrations.sendgrid.handlers.handle_event",
    "meta": "integrations.meta.handlers.handle_event",
    "shopify": "integrations.shopify.handlers.handle_event",
}

HEADERS_OF_INTEREST = (
    "Content-Type",
    "User-Agent",
    "X-Twilio-Signature",
    "X-Hub-Signature-256",
    "X-Shopify-Topic",
    "X-Shopify-Webhook-Id",
    "X-Shopify-Event-Id",
    "X-Shopify-Triggered-At",
    "X-Shopify-API-Version",
    "X-Shopify-Shop-Domain",
    "X-Twilio-Email-Event-Webhook-Timestamp",
)


@dataclass(frozen=True)
class RecordedWebhook:
    event: WebhookEvent
    is_replay: bool


def interesting_headers(headers: Any) -> dict[str, str]:
    return {name: headers[name] for name in HEADERS_OF_INTEREST if name in headers}


def record_webhook_event(
    *,
    provider: str,
    kind: str,
    event_id: str,
    raw_body: str,
    payload: dict[str, Any] | list[Any],
    headers: dict[str, str] | None = None,
    process: bool = True,
) -> RecordedWebhook:
    """Store a verified inbound call once; a second call with the same id changes nothing.

    With `process`, the provider handler runs as a task once this commits.
    """
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                provider=provider,
                kind=kind[:64],
                event_id=event_id[:255],
                is_verified=True,
                headers=headers or {},
                raw_body=raw_body,
                payload=payload,
            )
            if process:
                enqueue_on_commit(process_webhook_event, event_id=event.pk)
    except IntegrityError:
        existing = WebhookEvent.objects.get(provider=provider, event_id=event_id[:255])
        logger.info("%s.webhook.replay event_id=%s", provider, event_id)
        return RecordedWebhook(event=existing, is_replay=True)
    return RecordedWebhook(event=event, is_replay=False)


@task(queue_name=queues.REALTIME)
def process_webhook_event(*, event_id: int) -> str:
    """Run the provider handler for one stored event and record the outcome on it."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_id)
        if event.status == WebhookStatus.PROCESSED:
            return event.status
        event.attempts += 1
        event.save(update_fields=["attempts"])
    handler = import_string(HANDLERS[event.provider])
    try:
        with transaction.atomic():
            status = handler(event)
    except Exception as exc:  # recorded on the event for the replay log, then re-raised
        WebhookEvent.objects.filter(pk=event.pk).update(
            status=WebhookStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:5000]
        )
        logger.exception("%s.webhook.failed event=%s", event.provider, event.pk)
        raise
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=status, error="", processed_at=timezone.now()
    )
    return status
