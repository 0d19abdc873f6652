"""Twilio webhooks: inbound SMS/WhatsApp and delivery status callbacks (X-Twilio-Signature)."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from integrations.webhooks import interesting_headers, record_webhook_event

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def is_signed(request: HttpRequest) -> bool:
    """Twilio signs the public URL it called plus the sorted POST params (HMAC-SHA1)."""
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    return RequestValidator(token).validate(url, request.POST.dict(), signature)


def _receive(request: HttpRequest, *, kind: str) -> HttpResponse:
    if not is_signed(request):
        logger.warning("twilio.webhook.bad_signature path=%s", request.path)
        return HttpResponse("Invalid signature.", status=403, content_type="text/plain")
    params = request.POST.dict()
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if not sid:
        return HttpResponse("MessageSid is required.", status=400, content_type="text/plain")
    event_id = sid if kind == "message" else f"{sid}:{params.get('MessageStatus', '')}"
    record_webhook_event(
        provider="twilio",
        kind=kind,
        event_id=event_id,
        raw_body=request.body.decode("utf-8", "replace"),
        payload=params,
        headers=interesting_headers(request.headers),
    )
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def inbound_message(request: HttpRequest) -> HttpResponse:
    return _receive(request, kind="message")


@csrf_exempt
@require_POST
def status_callback(request: HttpRequest) -> HttpResponse:
    return _receive(request, kind="status")
