"""SendGrid webhooks: Inbound Parse (HTTP basic auth) and the signed Event Webhook (ECDSA)."""

import base64
import binascii
import hashlib
import hmac
import json
import logging
from email.parser import HeaderParser

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.utils.text import get_valid_filename
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

from core.files import digest_chunks
from integrations.webhooks import interesting_headers, record_webhook_event

logger = logging.getLogger(__name__)

PARSE_FIELDS = (
    "headers",
    "from",
    "to",
    "cc",
    "subject",
    "text",
    "html",
    "envelope",
    "attachment-info",
    "charsets",
    "spam_score",
    "sender_ip",
)


# Parse posts each field in the mail's own charset (listed in the `charsets` field), so the form
# is read as latin-1, which maps bytes to characters one to one, and each field is then decoded.
WIRE_ENCODING = "iso-8859-1"


def _decode(value: str, charset: str | None) -> str:
    raw = value.encode(WIRE_ENCODING, "replace")
    try:
        return raw.decode(charset or "utf-8", "replace")
    except LookupError:
        return raw.decode("utf-8", "replace")


def _parse_fields(request: HttpRequest) -> dict[str, str]:
    request.encoding = WIRE_ENCODING
    try:
        charsets = json.loads(request.POST.get("charsets") or "{}")
    except ValueError:
        charsets = {}
    if not isinstance(charsets, dict):
        charsets = {}
    return {name: _decode(request.POST.get(name, ""), charsets.get(name)) for name in PARSE_FIELDS}


def has_basic_auth(request: HttpRequest) -> bool:
    user, password = settings.SENDGRID_INBOUND_USER, settings.SENDGRID_INBOUND_PASSWORD
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if not (user and password) or scheme.lower() != "basic":
        return False
    try:
        given_user, _, given_password = base64.b64decode(encoded).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user_ok = hmac.compare_digest(given_user.encode(), user.encode())
    password_ok = hmac.compare_digest(given_password.encode(), password.encode())
    return user_ok and password_ok


def _unauthorized(request: HttpRequest) -> HttpResponse:
    logger.warning("sendgrid.webhook.bad_signature path=%s", request.path)
    response = HttpResponse("Unauthorized.", status=401, content_type="text/plain")
    if request.path.rstrip("/").endswith("sendgrid"):
        response["WWW-Authenticate"] = 'Basic realm="sendgrid-inbound"'
    return response


def _json_object(value: str) -> dict:
    try:
        parsed = json.loads(value or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def save_attachments(request: HttpRequest, *, event_id: str) -> list[dict]:
    """Store Parse's file parts under a folder named after the mail, so a replay writes nothing.

    `attachment-info` gives each part's name, type and Content-ID; `content-ids` maps inline
    images' Content-IDs to parts. The type kept is the one sniffed from the bytes. The folder
    name is keyed with SECRET_KEY: knowing a Message-ID does not reveal the key.
    """
    key = settings.SECRET_KEY.encode()
    folder = "inbound/email/" + hmac.new(key, event_id.encode(), hashlib.sha256).hexdigest()[:32]
    info = _json_object(request.POST.get("attachment-info", ""))
    inline_ids = {
        str(part): str(cid)
        for cid, part in _json_object(request.POST.get("content-ids", "")).items()
    }
    attachments = []
    for field_name, upload in request.FILES.items():
        part_info = info.get(field_name) if isinstance(info.get(field_name), dict) else {}
        name = _decode(str(part_info.get("filename") or upload.name or ""), "utf-8")
        declared = str(part_info.get("type") or upload.content_type or "")
        digest = digest_chunks(upload.chunks(), declared=declared)
        path = f"{folder}/{field_name}-{get_valid_filename(name) or field_name}"[:400]
        if not default_storage.exists(path):
            path = default_storage.save(path, upload)
        attachments.append(
            {
                "storage_key": path,
                "filename": name or field_name,
                "declared_type": declared,
                "content_type": digest.content_type,
                "size": digest.size,
                "sha256": digest.sha256,
                "content_id": str(part_info.get("content-id") or inline_ids.get(field_name, "")),
            }
        )
    return attachments


@csrf_exempt
@require_POST
def inbound_parse(request: HttpRequest) -> HttpResponse:
    if not has_basic_auth(request):
        return _unauthorized(request)
    fields = _parse_fields(request)
    headers = HeaderParser().parsestr(fields["headers"])
    message_id = (headers.get("Message-ID") or headers.get("Message-Id") or "").strip()
    if not message_id:
        digest = hashlib.sha256(
            "\n".join((fields["headers"], fields["from"], fields["text"])).encode()
        ).hexdigest()
        message_id = f"<sha256.{digest}@printdesk.local>"
    message_id = message_id[:255]
    payload = {
        **fields,
        "message_id": message_id,
        "in_reply_to": (headers.get("In-Reply-To") or "").strip(),
        "references": " ".join((headers.get("References") or "").split()),
        "attachments": save_attachments(request, event_id=message_id),
    }
    record_webhook_event(
        provider="sendgrid",
        kind="inbound",
        event_id=message_id,
        raw_body="",
        payload=payload,
        headers=interesting_headers(request.headers),
    )
    return HttpResponse("OK", content_type="text/plain")


def is_signed_event_batch(request: HttpRequest) -> bool:
    public_key = settings.SENDGRID_EVENT_PUBLIC_KEY
    signature = request.headers.get(EventWebhookHeader.SIGNATURE, "")
    timestamp = request.headers.get(EventWebhookHeader.TIMESTAMP, "")
    if not (public_key and signature and timestamp):
        return False
    try:
        return EventWebhook(public_key).verify_signature(
            request.body.decode("utf-8"), signature, timestamp
        )
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False


@csrf_exempt
@require_POST
def event_webhook(request: HttpRequest) -> HttpResponse:
    if not is_signed_event_batch(request):
        return _unauthorized(request)
    try:
        events = json.loads(request.body)
    except ValueError:
        return HttpResponse("Body must be a JSON array.", status=400, content_type="text/plain")
    if not isinstance(events, list):
        return HttpResponse("Body must be a JSON array.", status=400, content_type="text/plain")
    headers = interesting_headers(request.headers)
    for item in events:
        if not isinstance(item, dict):
            continue
        raw = json.dumps(item, sort_keys=True)
        event_id = str(item.get("sg_event_id") or hashlib.sha256(raw.encode()).hexdigest())
        record_webhook_event(
            provider="sendgrid",
            kind=f"event.{item.get('event', 'unknown')}",
            event_id=event_id,
            raw_body=raw,
            payload=item,
            headers=headers,
        )
    return HttpResponse("OK", content_type="text/plain")
