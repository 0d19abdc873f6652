"""Meta webhooks: the GET verify handshake and Messenger/Instagram events (X-Hub-Signature-256)."""

import hashlib
import hmac
import io
import json
import logging
from typing import Any, BinaryIO

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from integrations.payloads import MalformedPayload, decode_json
from integrations.webhooks import Item, ingest_webhook, interesting_headers

logger = logging.getLogger(__name__)

OBJECTS = ("page", "instagram")


def is_signed(request: HttpRequest) -> bool:
    secret = settings.META_APP_SECRET
    header = request.headers.get("X-Hub-Signature-256", "")
    if not secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix("sha256="), expected)


def split_messaging(raw: BinaryIO, headers: dict[str, str]) -> list[Item]:
    """One event per `messaging` item of a Messenger/Instagram batch; other objects are ignored.

    Each item is stored as its own lossless JSON (ASCII escapes keep NUL and lone surrogates).
    """
    body = decode_json(raw.read())
    if not isinstance(body, dict):
        raise MalformedPayload("Body must be a JSON object.")
    if body.get("object") not in OBJECTS:
        return []
    items = []
    for entry in _list(body.get("entry"), "entry"):
        if not isinstance(entry, dict):
            raise MalformedPayload("entry[] must hold objects.")
        for item in _list(entry.get("messaging"), "entry[].messaging"):
            key = event_key(item)
            if key is None:
                continue
            payload = {"object": body["object"], "entry_id": entry.get("id"), "messaging": item}
            raw_item = json.dumps(payload, sort_keys=True).encode()
            items.append(Item(kind=key[0], event_id=key[1], payload=payload, raw=raw_item))
    return items


def _list(value: Any, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"{where} must be a list.")
    return value


def _object(item: dict, name: str) -> dict:
    value = item.get(name)
    if not isinstance(value, dict):
        raise MalformedPayload(f"messaging[].{name} must be an object.")
    return value


def event_key(item: Any) -> tuple[str, str] | None:
    """(kind, unique event id) of one `messaging` item, or None for what we do not handle."""
    if not isinstance(item, dict):
        raise MalformedPayload("messaging[] must hold objects.")
    sender = item.get("sender")
    sender_id = str(sender.get("id", "")) if isinstance(sender, dict) else ""
    if "message" in item:
        message = _object(item, "message")
        mid = message.get("mid")
        if not isinstance(mid, str) or not mid:
            raise MalformedPayload("messaging[].message.mid must be a non-empty string.")
        # An echo is what the Page sent (our sends, or a reply from Meta's own inbox).
        return ("echo" if message.get("is_echo") is True else "message"), mid
    if "postback" in item:
        # A button, Get Started or an ice breaker tapped; newer versions give it a mid.
        postback = _object(item, "postback")
        mid = postback.get("mid")
        if isinstance(mid, str) and mid:
            return "postback", mid
        return "postback", f"postback:{sender_id}:{item.get('timestamp', '')}"
    if "delivery" in item:
        delivery = _object(item, "delivery")
        mids = ",".join(sorted(str(mid) for mid in _list(delivery.get("mids"), "delivery.mids")))
        return "delivery", f"delivery:{sender_id}:{delivery.get('watermark', '')}:{mids}"
    if "read" in item:
        read = _object(item, "read")
        return "read", f"read:{sender_id}:{read.get('mid') or read.get('watermark', '')}"
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
    ingest_webhook(
        endpoint="meta", raw=io.BytesIO(request.body), headers=interesting_headers(request.headers)
    )
    return HttpResponse("EVENT_RECEIVED", content_type="text/plain")
