"""What every inbound provider webhook shares, after its own signature check.

STYLE.md order: (1) the provider view verifies the signature over the raw request and answers
401/403 on failure, storing nothing; (2) `ingest_webhook` stores the verified call, exactly as
received, unique on (provider, event_id), so a replay is a 200 no-op; (3) processing runs on
commit as a task (queue `realtime`) that calls the provider's handler and records its status and
error. With the database task backend the event row and its task row are written in one
transaction (`core.tasks.enqueue_on_commit`): one commit per message, and no crash between two
commits can leave a stored event that nothing will process (docs/decisions.md, issue 18).

Store first, whatever the bytes (issue 21): the endpoint's splitter reads the body into items
(one per provider event). A body it cannot read (not JSON, nested too deep, wrong shape, missing
id) is still stored, raw, as one failed "unparsed" event with the reason, and the provider gets
its 200. Payload text is cleaned for the database (`integrations.payloads`) and the repairs are
recorded on the event. Failed events are listed in the admin ("inbound events that need
attention") and `reprocess_webhook_events` runs them again with the code of the day.
"""

import hashlib
import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, BinaryIO

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task

from core import queues
from core.tasks import enqueue_on_commit
from integrations.models import WebhookEvent, WebhookStatus
from integrations.payloads import MalformedPayload, clean_for_storage, clean_text, storable_key

logger = logging.getLogger(__name__)

# provider -> dotted path of `handle(event: WebhookEvent) -> WebhookStatus`. Each handler calls
# services and raises on failure; it is imported lazily so providers don't import each other.
HANDLERS: dict[str, str] = {
    "twilio": "integrations.twilio.handlers.handle_event",
    "sendgrid": "integrations.sendgrid.handlers.handle_event",
    "meta": "integrations.meta.handlers.handle_event",
    "shopify": "integrations.shopify.handlers.handle_event",
}

# endpoint -> (provider, dotted path of `split(raw: BinaryIO, headers) -> list[Item]`). A splitter
# reads the body into provider events, or raises MalformedPayload; it runs again on reprocess.
ENDPOINTS: dict[str, tuple[str, str]] = {
    "twilio.message": ("twilio", "integrations.twilio.views.split_message"),
    "twilio.status": ("twilio", "integrations.twilio.views.split_status"),
    "sendgrid.inbound": ("sendgrid", "integrations.sendgrid.views.split_inbound"),
    "sendgrid.events": ("sendgrid", "integrations.sendgrid.views.split_events"),
    "meta": ("meta", "integrations.meta.views.split_messaging"),
    "shopify": ("shopify", "integrations.shopify.views.split_delivery"),
}
UNPARSED = "unparsed:"

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
EVENT_ID_MAX_LENGTH = WebhookEvent._meta.get_field("event_id").max_length
KIND_MAX_LENGTH = WebhookEvent._meta.get_field("kind").max_length


@dataclass(frozen=True)
class Item:
    """One provider event read from a request. `raw` is the item's own lossless encoding when
    the request is a batch; None stores the whole request body."""

    kind: str
    event_id: str
    payload: Any
    raw: bytes | None = None


Splitter = Callable[[BinaryIO, dict[str, str]], list[Item]]


@dataclass(frozen=True)
class RecordedWebhook:
    event: WebhookEvent
    is_replay: bool


def interesting_headers(headers: Any) -> dict[str, str]:
    return {name: headers[name] for name in HEADERS_OF_INTEREST if name in headers}


def ingest_webhook(
    *, endpoint: str, raw: BinaryIO, headers: dict[str, str]
) -> list[RecordedWebhook]:
    """Store a verified request as its provider events (or as one unparsed event) and enqueue
    their processing on commit. Never raises for what the body contains."""
    provider, splitter = ENDPOINTS[endpoint]
    split: Splitter = import_string(splitter)
    raw.seek(0)
    try:
        items = split(raw, headers)
    except MalformedPayload as exc:
        logger.warning("%s.webhook.unparsed endpoint=%s reason=%s", provider, endpoint, exc)
        return [record_unparsed(endpoint=endpoint, raw=raw, headers=headers, reason=str(exc))]
    return _record_items(provider=provider, items=items, raw=raw, headers=headers)


def _record_items(
    *, provider: str, items: list[Item], raw: BinaryIO, headers: dict[str, str]
) -> list[RecordedWebhook]:
    return [
        record_webhook_event(
            provider=provider,
            kind=item.kind,
            event_id=item.event_id,
            raw_body=raw if item.raw is None else item.raw,
            payload=item.payload,
            headers=headers,
        )
        for item in items
    ]


def record_unparsed(
    *, endpoint: str, raw: BinaryIO, headers: dict[str, str], reason: str
) -> RecordedWebhook:
    """A verified body no splitter could read, kept whole as a failed event (keyed by its hash,
    so the provider's retries of it are replays)."""
    provider, _ = ENDPOINTS[endpoint]
    return record_webhook_event(
        provider=provider,
        kind=UNPARSED + endpoint,
        event_id="sha256:" + _sha256(raw),
        raw_body=raw,
        payload={},
        headers=headers,
        failure=reason,
    )


def record_webhook_event(
    *,
    provider: str,
    kind: str,
    event_id: str,
    raw_body: BinaryIO | bytes,
    payload: Any,
    headers: dict[str, str] | None = None,
    process: bool = True,
    failure: str = "",
) -> RecordedWebhook:
    """Store a verified inbound call once; a second call with the same id changes nothing.

    `raw_body` is kept exactly (in the row, or as a file when over WEBHOOK_RAW_INLINE_MAX_BYTES).
    With `process`, the provider handler runs as a task after commit; a `failure` stores the
    event as failed with that reason instead.
    """
    raw = io.BytesIO(raw_body) if isinstance(raw_body, bytes) else raw_body
    raw.seek(0, io.SEEK_END)
    is_inline = raw.tell() <= settings.WEBHOOK_RAW_INLINE_MAX_BYTES
    raw.seek(0)
    event_id = storable_key(event_id, max_length=EVENT_ID_MAX_LENGTH)
    clean_payload, repairs = clean_for_storage(payload)
    clean_headers, header_repairs = clean_for_storage(headers or {})
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                provider=provider,
                kind=clean_text(kind)[0][:KIND_MAX_LENGTH],
                event_id=event_id,
                is_verified=True,
                headers=clean_headers,
                raw_body=raw.read() if is_inline else b"",
                payload=clean_payload,
                text_repairs=repairs + [f"header {note}" for note in header_repairs],
                status=WebhookStatus.FAILED if failure else WebhookStatus.RECEIVED,
                error=clean_text(failure)[0],
            )
            if not is_inline:
                raw.seek(0)
                event.raw_file.save(f"{provider}-{event.pk}.raw", File(raw), save=True)
            if process and not failure:
                enqueue_on_commit(process_webhook_event, event_id=event.pk)
    except IntegrityError:
        existing = WebhookEvent.objects.get(provider=provider, event_id=event_id)
        logger.info("%s.webhook.replay event_id=%s", provider, event_id)
        return RecordedWebhook(event=existing, is_replay=True)
    finally:
        raw.seek(0)
    return RecordedWebhook(event=event, is_replay=False)


def _sha256(raw: BinaryIO) -> str:
    raw.seek(0)
    digest = hashlib.file_digest(raw, "sha256").hexdigest()
    raw.seek(0)
    return digest


def open_raw(event: WebhookEvent) -> BinaryIO:
    """The stored request body of `event`, exactly as received."""
    if event.raw_file:
        return event.raw_file.open("rb")
    return io.BytesIO(bytes(event.raw_body))


@task(queue_name=queues.REALTIME)
def process_webhook_event(*, event_id: int) -> str:
    """Run the provider handler for one stored event and record the outcome on it.

    An unparsed event is split again: its provider events are stored (and processed) now.
    """
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event_id)
        if event.status == WebhookStatus.PROCESSED:
            return event.status
        event.attempts += 1
        event.save(update_fields=["attempts"])
    try:
        with transaction.atomic():
            status = _process(event)
    except Exception as exc:  # recorded on the event for the replay log, then re-raised
        reason = clean_text(f"{type(exc).__name__}: {exc}")[0]
        WebhookEvent.objects.filter(pk=event.pk).update(
            status=WebhookStatus.FAILED, error=reason[:5000]
        )
        logger.exception("%s.webhook.failed event=%s", event.provider, event.pk)
        raise
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=status, error="", processed_at=timezone.now()
    )
    return status


def _process(event: WebhookEvent) -> str:
    if not event.kind.startswith(UNPARSED):
        return import_string(HANDLERS[event.provider])(event)
    provider, splitter = ENDPOINTS[event.kind.removeprefix(UNPARSED)]
    with open_raw(event) as raw:
        items = import_string(splitter)(raw, event.headers)  # MalformedPayload: still unreadable
        _record_items(provider=provider, items=items, raw=raw, headers=event.headers)
    return WebhookStatus.PROCESSED


def list_webhook_events_needing_attention() -> QuerySet[WebhookEvent]:
    """Failed events, and events still unprocessed after WEBHOOK_STUCK_AFTER_MINUTES."""
    stuck_before = timezone.now() - timedelta(minutes=settings.WEBHOOK_STUCK_AFTER_MINUTES)
    return WebhookEvent.objects.filter(
        Q(status=WebhookStatus.FAILED)
        | Q(status=WebhookStatus.RECEIVED, received_at__lt=stuck_before)
    ).defer("raw_body")


@transaction.atomic
def reprocess_webhook_events(*, event_ids: Iterable[int]) -> int:
    """Queue stored events to run again; processed (and ignored) ones are left alone, so
    reprocessing twice, or an event that already succeeded, changes nothing."""
    events = list(
        WebhookEvent.objects.select_for_update()
        .filter(pk__in=list(event_ids), status__in=(WebhookStatus.FAILED, WebhookStatus.RECEIVED))
        .values_list("pk", flat=True)
    )
    WebhookEvent.objects.filter(pk__in=events).update(status=WebhookStatus.RECEIVED)
    for pk in events:
        enqueue_on_commit(process_webhook_event, event_id=pk)
    logger.info("webhook.reprocess events=%s", events)
    return len(events)
