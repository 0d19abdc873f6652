"""POST /api/webhooks/shopify: customers/*, orders/* and products/* topics.

The HMAC (base64 HMAC-SHA256 of the raw body with SHOPIFY_WEBHOOK_SECRET) is checked before the
body is parsed. X-Shopify-Event-Id, the event's identity (the same on every delivery of one event,
Shopify's "ignore duplicates" guide), makes a delivery idempotent; older deliveries without it
fall back to X-Shopify-Webhook-Id.
"""

import base64
import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.webhooks import interesting_headers, record_webhook_event

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
    topic = request.headers.get("X-Shopify-Topic", "")
    event_id = request.headers.get("X-Shopify-Event-Id") or request.headers.get(
        "X-Shopify-Webhook-Id", ""
    )
    if not topic or not event_id:
        return JsonResponse(
            {
                "detail": "Missing X-Shopify-Topic or X-Shopify-Event-Id/X-Shopify-Webhook-Id.",
                "code": "invalid",
            },
            status=400,
        )
    try:
        payload = json.loads(request.body)
    except ValueError:
        return JsonResponse({"detail": "Body is not JSON.", "code": "invalid"}, status=400)
    recorded = record_webhook_event(
        provider="shopify",
        kind=topic,
        event_id=event_id,
        raw_body=request.body.decode("utf-8", "replace"),
        payload=payload,
        headers=interesting_headers(request.headers),
    )
    return JsonResponse({"status": "duplicate" if recorded.is_replay else "accepted"})
