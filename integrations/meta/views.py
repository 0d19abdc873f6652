"""Meta webhooks: the GET verify handshake and Messenger/Instagram events (X-Hub-Signature-256)."""

import hashlib
import hmac
import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from integrations.webhooks import interesting_headers, record_webhook_event

logger = logging.getLogger(__name__)

OBJECTS = ("page", "instagram")


def is_signed(request: HttpRequest) -> bool:
    secret = settings.META_APP_SECRET
    header = request.headers.get("X-Hub-Signature-256", "")
    if not secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix("sha256="), expected)


def event_key(item: dict) -> tuple[str, str] | None:
    """(kind, unique event id) of one `messaging` item, or None for what we do not handle."""
    sender = str(item.get("sender", {}).get("id", ""))
    if "message" in item:
        message = item["message"]
        if message.get("is_echo") or not message.get("mid"):
            return None  # our own sends, echoed back
        return "message", message["mid"]
    if "delivery" in item:
        delivery = item["delivery"]
        mids = ",".join(sorted(delivery.get("mids") or []))
        return "delivery", f"delivery:{sender}:{delivery.get('watermark', '')}:{mids}"[:255]
    if "read" in item:
        read = item["read"]
        return "read", f"read:{sender}:{read.get('mid') or read.get('watermark', '')}"
    return None


def _handshake(request: HttpRequest) -> HttpResponse:
    token = settings.META_VERIFY_TOKEN
    given = request.GET.get("hub.verify_token", "")
    if (
        token
        and request.GET.get("hub.mode") == "subscribe"
        and hmac.compare_digest(given.encode(), token.encode())
    ):
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    logger.warning("meta.webhook.bad_verify_token")
    return HttpResponse("Verification failed.", status=403, content_type="text/plain")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _handshake(request)
    if not is_signed(request):
        logger.warning("meta.webhook.bad_signature path=%s", request.path)
        return HttpResponse("Invalid signature.", status=403, content_type="text/plain")
    try:
        body = json.loads(request.body)
    except ValueError:
        return HttpResponse("Body must be JSON.", status=400, content_type="text/plain")
    if not isinstance(body, dict) or body.get("object") not in OBJECTS:
        return HttpResponse("EVENT_RECEIVED", content_type="text/plain")
    headers = interesting_headers(request.headers)
    for entry in body.get("entry") or []:
        for item in entry.get("messaging") or []:
            key = event_key(item)
            if key is None:
                continue
            kind, event_id = key
            payload = {"object": body["object"], "entry_id": entry.get("id"), "messaging": item}
            record_webhook_event(
                provider="meta",
                kind=kind,
                event_id=event_id,
                raw_body=json.dumps(item, sort_keys=True),
                payload=payload,
                headers=headers,
            )
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")
