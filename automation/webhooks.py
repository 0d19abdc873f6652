"""Outbound webhooks: signed JSON POSTs to endpoints that admins register.

Signature (docs/automation.md has the receiver's recipe):
    X-Printdesk-Timestamp: <unix seconds>
    X-Printdesk-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>
Signing the timestamp with the body lets a receiver reject replays of old deliveries.
"""

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action, require
from automation.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from automation.services import list_admins
from comms.models import NotificationKind
from comms.services import notify_user
from core.errors import ApplicationError
from core.tasks import Backoff
from integrations.clients import is_retryable_status
from integrations.http_retry import ProviderHttpClient, ProviderUnreachable

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Printdesk-Signature"
TIMESTAMP_HEADER = "X-Printdesk-Timestamp"
EVENT_HEADER = "X-Printdesk-Event"
DELIVERY_HEADER = "X-Printdesk-Delivery"
# Waits before attempts 2, 3, 4, 5; the last failure fails the delivery.
BACKOFF_STEPS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
)
REPLAY_TOLERANCE_SECONDS = 300


class WebhookSender(ProviderHttpClient):
    """POSTs to the endpoints admins register (absolute URLs). Never retried in-call: the task
    retries with `delivery_backoff()`, and each attempt is recorded on the delivery."""

    timeout = (3.05, 10)


def webhook_setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def delivery_backoff() -> Backoff:
    attempts = webhook_setting("AUTOMATION_WEBHOOK_MAX_ATTEMPTS", len(BACKOFF_STEPS) + 1)
    return Backoff(attempts=attempts, steps=BACKOFF_STEPS)


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


def verify_signature(
    *, secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None
) -> bool:
    """What a receiver does: recompute, compare in constant time, refuse stale timestamps."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - sent_at) > REPLAY_TOLERANCE_SECONDS:
        return False
    expected = sign(secret=secret, timestamp=sent_at, body=body)
    return hmac.compare_digest(expected, signature or "")


def queue_webhooks(*, event: str, payload: dict) -> list[WebhookDelivery]:
    """One delivery per active endpoint subscribed to `event`, sent after commit."""
    from automation.tasks import deliver_webhook

    deliveries = [
        WebhookDelivery.objects.create(endpoint=endpoint, event=event, payload=payload)
        for endpoint in WebhookEndpoint.objects.filter(is_active=True)
        if event in (endpoint.events or [])
    ]
    for delivery in deliveries:
        transaction.on_commit(partial(deliver_webhook.enqueue, delivery_id=delivery.pk))
    return deliveries


def delivery_body(delivery: WebhookDelivery) -> bytes:
    document = {
        "id": delivery.pk,
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class AttemptResult:
    delivery: WebhookDelivery
    retry_in: timedelta | None = None


def attempt_delivery(*, delivery_id: int) -> AttemptResult:
    """POST one delivery (outside any transaction), then record the outcome."""
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if delivery.state != DeliveryState.PENDING or not delivery.endpoint.is_active:
        return AttemptResult(delivery=delivery)
    body = delivery_body(delivery)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Printdesk-Webhooks/1.0",
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.pk),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret=delivery.endpoint.secret, timestamp=timestamp, body=body),
    }
    status, error = None, ""
    try:
        response = WebhookSender().request(
            "POST",
            delivery.endpoint.url,
            idempotent=False,
            data=body,
            headers=headers,
            allow_redirects=False,
        )
        status = response.status_code
        if not 200 <= status < 300:
            error = f"HTTP {status}: {response.text[:300]}"
    except ProviderUnreachable as exc:
        error = str(exc)[:500]
    return _record_attempt(delivery_id=delivery.pk, status=status, error=error)


@transaction.atomic
def _record_attempt(*, delivery_id: int, status: int | None, error: str) -> AttemptResult:
    delivery = (
        WebhookDelivery.objects.select_for_update().select_related("endpoint").get(pk=delivery_id)
    )
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_status = status
    delivery.error = error
    retry_in = None
    endpoint = delivery.endpoint
    if not error:
        delivery.state = DeliveryState.SUCCEEDED
        delivery.delivered_at = now
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failure_count=0, last_success_at=now)
    else:
        retry_in = delivery_backoff().retry_in(
            delivery.attempts, is_retryable=status is None or is_retryable_status(status)
        )
        if retry_in is None:
            delivery.state = DeliveryState.FAILED
            _count_failure(endpoint=endpoint, now=now)
    delivery.save()
    logger.info(
        "automation.webhook.attempt delivery=%s status=%s error=%s",
        delivery.pk,
        status,
        bool(error),
    )
    return AttemptResult(delivery=delivery, retry_in=retry_in)


def _count_failure(*, endpoint: WebhookEndpoint, now) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failure_count=F("failure_count") + 1)
    endpoint.refresh_from_db(fields=["failure_count", "is_active"])
    limit = webhook_setting("AUTOMATION_WEBHOOK_DISABLE_AFTER", 5)
    if endpoint.is_active and endpoint.failure_count >= limit:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False, disabled_at=now)
        logger.warning("automation.webhook.endpoint_disabled endpoint=%s", endpoint.pk)
        for admin in list_admins():
            notify_user(
                recipient=admin,
                kind=NotificationKind.SYSTEM,
                title=f"Webhook endpoint “{endpoint.name}” was disabled",
                body=(
                    f"{endpoint.failure_count} deliveries in a row failed to {endpoint.url}. "
                    "Fix the receiver, then re-activate the endpoint."
                ),
                url=f"/automation/webhooks/{endpoint.pk}/",
            )


TEST_EVENT = "webhook.test"


@transaction.atomic
def send_test_event(*, actor: User, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a signed `webhook.test` delivery to one endpoint ("Send a test event" on the staff
    page): receivers can check their signature code without a real ticket event."""
    require(actor, Action.MANAGE_AUTOMATION)
    if not endpoint.is_active:
        raise ApplicationError(
            "Activate the endpoint first: inactive endpoints receive nothing.",
            code="endpoint_inactive",
        )
    from automation.tasks import deliver_webhook

    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=TEST_EVENT,
        payload={"test": True, "endpoint": endpoint.name, "sent_by": actor.get_username()},
    )
    transaction.on_commit(partial(deliver_webhook.enqueue, delivery_id=delivery.pk))
    return delivery


@transaction.atomic
def retry_deliveries(*, delivery_ids: list[int]) -> int:
    """Send failed deliveries of active endpoints again, from the first attempt (admin action)."""
    from automation.tasks import deliver_webhook

    rows = WebhookDelivery.objects.select_for_update().filter(
        pk__in=delivery_ids, state=DeliveryState.FAILED, endpoint__is_active=True
    )
    ids = list(rows.values_list("pk", flat=True))
    WebhookDelivery.objects.filter(pk__in=ids).update(state=DeliveryState.PENDING, attempts=0)
    for delivery_id in ids:
        transaction.on_commit(partial(deliver_webhook.enqueue, delivery_id=delivery_id))
    return len(ids)
