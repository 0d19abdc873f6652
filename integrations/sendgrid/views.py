"""SendGrid webhooks: Inbound Parse (HTTP basic auth) and the signed Event Webhook (ECDSA)."""

import base64
import binascii
import hashlib
import hmac
import io
import json
import logging
from email.parser import HeaderParser
from functools import partial
from typing import BinaryIO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.utils.text import get_valid_filename
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from sendgrid.helpers.eventwebhook import EventWebhook
from sendgrid.helpers.eventwebhook.eventwebhook_header import EventWebhookHeader

from core.files import digest_chunks
from integrations.payloads import MalformedPayload, decode_json
from integrations.sendgrid.multipart import CHUNK_SIZE, Part, read_parts, spool_request_body
from integrations.webhooks import Item, ingest_webhook, interesting_headers

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
    "dkim",
    "SPF",
)


# A body cut for display is also kept whole, as a file on the message.
FULL_BODY_FILES = {"text": ("message.txt", "text/plain"), "html": ("message.html", "text/html")}


def _charsets(parts: dict[str, Part]) -> dict:
    """Parse names each field's charset in the `charsets` field (a JSON object)."""
    if "charsets" not in parts:
        return {}
    text, _ = parts["charsets"].read_text(charset="utf-8", max_chars=64 * 1024)
    try:
        charsets = decode_json(text.encode())
    except MalformedPayload:
        return {}
    return charsets if isinstance(charsets, dict) else {}


def _read_fields(parts: dict[str, Part]) -> tuple[dict[str, str], dict[str, int]]:
    """The text fields, each decoded in its own charset (SendGrid posts the mail's), and the
    byte size of each body field that was cut for display."""
    charsets = _charsets(parts)
    fields, truncated = {}, {}
    for name in PARSE_FIELDS:
        part = parts.get(name)
        if part is None:
            fields[name] = ""
            continue
        charset = charsets.get(name)
        fields[name], is_cut = part.read_text(
            charset=charset if isinstance(charset, str) else None,
            max_chars=settings.INBOUND_EMAIL_BODY_MAX_CHARS,
        )
        if is_cut:
            truncated[name] = part.size
    return fields, truncated


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


def _json_object(part: Part | None) -> dict:
    if part is None:
        return {}
    text, _ = part.read_text(charset="utf-8", max_chars=1024 * 1024)
    try:
        parsed = decode_json(text.encode() or b"{}")
    except MalformedPayload:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _store_part(part: Part, *, path: str, name: str, declared: str, content_id: str = "") -> dict:
    """Store one part (once: a replay finds it) and describe it for the message's attachments."""
    part.file.seek(0)
    digest = digest_chunks(iter(partial(part.file.read, CHUNK_SIZE), b""), declared=declared)
    if not default_storage.exists(path):
        part.file.seek(0)
        path = default_storage.save(path, File(part.file))
    return {
        "storage_key": path,
        "filename": name,
        "declared_type": declared,
        "content_type": digest.content_type,
        "size": digest.size,
        "sha256": digest.sha256,
        "content_id": content_id,
    }


def save_attachments(
    parts: list[Part], fields: dict[str, Part], *, event_id: str, cut: dict[str, int]
) -> list[dict]:
    """Store Parse's file parts under a folder named after the mail, so a replay writes nothing.

    `attachment-info` gives each part's name, type and Content-ID; `content-ids` maps inline
    images' Content-IDs to parts. The type kept is the one sniffed from the bytes. A text or
    HTML body cut for display (`cut`) is kept whole as a file too. The folder name is keyed with
    SECRET_KEY: knowing a Message-ID does not reveal the key.
    """
    key = settings.SECRET_KEY.encode()
    folder = "inbound/email/" + hmac.new(key, event_id.encode(), hashlib.sha256).hexdigest()[:32]
    info = _json_object(fields.get("attachment-info"))
    inline_ids = {
        str(part): str(cid) for cid, part in _json_object(fields.get("content-ids")).items()
    }
    attachments = []
    for part in parts:
        if part.filename is None:
            continue
        part_info = info.get(part.name) if isinstance(info.get(part.name), dict) else {}
        name = str(part_info.get("filename") or part.filename or "")
        field_name = get_valid_filename(part.name) or "attachment"
        path = f"{folder}/{field_name}-{get_valid_filename(name) or field_name}"[:400]
        declared = str(part_info.get("type") or part.content_type or "")
        content_id = str(part_info.get("content-id") or inline_ids.get(part.name, ""))
        attachments.append(
            _store_part(
                part, path=path, name=name or field_name, declared=declared, content_id=content_id
            )
        )
    for field, (filename, declared) in FULL_BODY_FILES.items():
        if field in cut:
            attachments.append(
                _store_part(
                    fields[field], path=f"{folder}/{filename}", name=filename, declared=declared
                )
            )
    return attachments


def split_inbound(raw: BinaryIO, headers: dict[str, str]) -> list[Item]:
    """One mail per request: its fields, attachments saved, keyed by its Message-ID."""
    parts = read_parts(raw, headers.get("Content-Type", ""))
    try:
        by_name = {part.name: part for part in parts if part.filename is None}
        fields, truncated = _read_fields(by_name)
        mail_headers = HeaderParser().parsestr(fields["headers"])
        message_id = (
            mail_headers.get("Message-ID") or mail_headers.get("Message-Id") or ""
        ).strip()
        if not message_id:
            digest = hashlib.sha256(
                "\n".join((fields["headers"], fields["from"], fields["text"])).encode(
                    "utf-8", "surrogatepass"
                )
            ).hexdigest()
            message_id = f"<sha256.{digest}@printdesk.local>"
        payload = {
            **fields,
            "message_id": message_id,
            "in_reply_to": (mail_headers.get("In-Reply-To") or "").strip(),
            "references": " ".join((mail_headers.get("References") or "").split()),
            "truncated": truncated,
            "attachments": save_attachments(parts, by_name, event_id=message_id, cut=truncated),
        }
    finally:
        for part in parts:
            part.file.close()
    return [Item(kind="inbound", event_id=message_id, payload=payload)]


@csrf_exempt
@require_POST
def inbound_parse(request: HttpRequest) -> HttpResponse:
    if not has_basic_auth(request):
        return _unauthorized(request)
    if request.content_type != "multipart/form-data":
        logger.warning("sendgrid.webhook.unsupported_media_type type=%s", request.content_type)
        return HttpResponse(
            "Inbound Parse posts multipart/form-data.", status=415, content_type="text/plain"
        )
    with spool_request_body(request) as raw:
        ingest_webhook(
            endpoint="sendgrid.inbound", raw=raw, headers=interesting_headers(request.headers)
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
    ingest_webhook(
        endpoint="sendgrid.events",
        raw=io.BytesIO(request.body),
        headers=interesting_headers(request.headers),
    )
    return HttpResponse("OK", content_type="text/plain")


def split_events(raw: BinaryIO, headers: dict[str, str]) -> list[Item]:
    """One event per item of the batch, each stored as its own lossless JSON."""
    events = decode_json(raw.read())
    if not isinstance(events, list) or not all(isinstance(item, dict) for item in events):
        raise MalformedPayload("Body must be a JSON array of objects.")
    items = []
    for item in events:
        encoded = json.dumps(item, sort_keys=True).encode()
        event_id = item.get("sg_event_id")
        if not isinstance(event_id, str) or not event_id:
            event_id = hashlib.sha256(encoded).hexdigest()
        event = item.get("event")
        kind = f"event.{event if isinstance(event, str) else 'unknown'}"
        items.append(Item(kind=kind, event_id=event_id, payload=item, raw=encoded))
    return items
