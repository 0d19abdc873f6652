"""POST /api/webhooks/shopify: customers/*, orders/* and products/* topics.

The HMAC (base64 HMAC-SHA256 of the raw body with SHOPIFY_WEBHOOK_SECRET) is checked before the
body is parsed. X-Shopify-Event-Id, the event's identity (the same on every delivery of one event,
Shopify's "ignore duplicates" guide), makes a delivery idempotent; older deliveries without it
fall back to X-Shopify-Webhook-Id. A signed delivery is always stored, even one that cannot be
read (then as a failed event, integrations.webhooks).
"""

import base64
import hashlib
import hmac
import io
import logging
from typing import BinaryIO

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.payloads import MalformedPayload, decode_json
from integrations.webhooks import Item, ingest_webhook, interesting_headers

logger = logging.getLogger(__name__)


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def is_signed(request: HttpRequest) -> bool:
    secret = settings.SHOPIFY_WEBHOOK_SECRET
    header = request.headers.get("X-Shopify-Hmac-Sha256", "")
    if not secret or not header:
        return False
    return hmac.compare_digest(header.encode(), sign(request.body, secret).encode())


@csrf_exempt
@require_POST
def webhook(request: HttpRequest) -> JsonResponse:
    if not is_signed(request):
        logger.warning(
            "shopify.webhook.bad_signature topic=%s", request.headers.get("X-Shopify-Topic", "")
        )
        return JsonResponse({"detail": "Invalid signature.", "code": "bad_signature"}, status=401)
    recorded = ingest_webhook(
        endpoint="shopify",
        raw=io.BytesIO(request.body),
        headers=interesting_headers(request.headers),
    )
    is_replay = all(r.is_replay for r in recorded)
    return JsonResponse({"status": "duplicate" if is_replay else "accepted"})


def split_delivery(raw: BinaryIO, headers: dict[str, str]) -> list[Item]:
    """One delivery is one event: the topic and the event's id come in headers."""
    topic = headers.get("X-Shopify-Topic", "")
    event_id = headers.get("X-Shopify-Event-Id") or headers.get("X-Shopify-Webhook-Id", "")
    if not topic or not event_id:
        raise MalformedPayload(
            "X-Shopify-Topic or X-Shopify-Event-Id/X-Shopify-Webhook-Id is missing."
        )
    payload = decode_json(raw.read())
    if not isinstance(payload, dict):
        raise MalformedPayload("Body must be a JSON object.")
    return [Item(kind=topic, event_id=event_id, payload=payload)]
