"""Twilio webhooks: inbound SMS/WhatsApp and delivery status callbacks (X-Twilio-Signature)."""

import io
import logging
from typing import BinaryIO
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from integrations.payloads import MalformedPayload
from integrations.webhooks import Item, ingest_webhook, interesting_headers

logger = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def is_signed(request: HttpRequest) -> bool:
    """Twilio signs the public URL it called plus the sorted POST params (HMAC-SHA1)."""
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    return RequestValidator(token).validate(url, request.POST.dict(), signature)


def split_message(raw: BinaryIO, headers: dict[str, str]) -> list[Item]:
    return _split(raw, kind="message")


def split_status(raw: BinaryIO, headers: dict[str, str]) -> list[Item]:
    return _split(raw, kind="status")


def _split(raw: BinaryIO, *, kind: str) -> list[Item]:
    """Twilio posts one message (or status change) per request, as UTF-8 form fields."""
    params = _form_fields(raw.read())
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if not sid:
        raise MalformedPayload("MessageSid is missing.")
    event_id = sid if kind == "message" else f"{sid}:{params.get('MessageStatus', '')}"
    return [Item(kind=kind, event_id=event_id, payload=params)]


def _form_fields(body: bytes) -> dict[str, str]:
    """What `QueryDict(body).dict()` gives (the last value of a repeated field), without building
    the multi-value dict first: this runs for every inbound message (bench/README.md, ingest)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("iso-8859-1")
    try:
        return dict(
            parse_qsl(
                text, keep_blank_values=True, max_num_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
            )
        )
    except ValueError as exc:
        raise MalformedPayload("Too many form fields.") from exc


def _receive(request: HttpRequest, *, endpoint: str) -> HttpResponse:
    # Twilio signs form fields, so only a UTF-8 form can be verified (and is all it sends).
    if request.content_type != FORM or (request.encoding or "utf-8").lower() != "utf-8":
        logger.warning("twilio.webhook.unsupported_media_type type=%s", request.content_type)
        return HttpResponse(
            "Content-Type must be application/x-www-form-urlencoded (UTF-8).",
            status=415,
            content_type="text/plain",
        )
    if not is_signed(request):
        logger.warning("twilio.webhook.bad_signature path=%s", request.path)
        return HttpResponse("Invalid signature.", status=403, content_type="text/plain")
    ingest_webhook(
        endpoint=endpoint,
        raw=io.BytesIO(request.body),
        headers=interesting_headers(request.headers),
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def inbound_message(request: HttpRequest) -> HttpResponse:
    return _receive(request, endpoint="twilio.message")


@csrf_exempt
@require_POST
def status_callback(request: HttpRequest) -> HttpResponse:
    return _receive(request, endpoint="twilio.status")
