"""Twilio Programmable Messaging (SMS and WhatsApp) through the official SDK."""

import json

import requests
from django.conf import settings
from twilio.base import values
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from integrations.clients import (
    TIMEOUT_SECONDS,
    OutboundRequest,
    ProviderRejected,
    ProviderUnavailable,
    SendResult,
    error_for_status,
)
from tickets.attachments import is_mms_capable
from tickets.models import ChannelKind

STATUS_CALLBACK_PATH = "/api/webhooks/twilio/status"


def is_configured() -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN)


class TwilioClient:
    provider = "twilio"

    def __init__(
        self, *, account_sid: str, auth_token: str, base_url: str, sms_from: str, whatsapp_from: str
    ) -> None:
        self.client = Client(
            account_sid, auth_token, http_client=TwilioHttpClient(timeout=TIMEOUT_SECONDS)
        )
        # The Api domain carries the base URL; pointing it elsewhere reaches a staging or fake API.
        self.client.api.base_url = base_url.rstrip("/")
        self.sms_from = sms_from
        self.whatsapp_from = whatsapp_from

    @classmethod
    def from_settings(cls, *, sender: str = "") -> "TwilioClient":
        return cls(
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            base_url=settings.TWILIO_API_URL,
            sms_from=sender or settings.TWILIO_SMS_FROM,
            whatsapp_from=sender or settings.TWILIO_WHATSAPP_FROM,
        )

    def send(self, request: OutboundRequest) -> SendResult:
        if request.channel == ChannelKind.WHATSAPP:
            to, from_ = (
                f"whatsapp:{request.to.removeprefix('whatsapp:')}",
                f"whatsapp:{self.whatsapp_from.removeprefix('whatsapp:')}",
            )
        else:
            to, from_ = request.to, self.sms_from
        if not from_.removeprefix("whatsapp:"):
            raise ProviderRejected(
                f"No Twilio sender number is configured for {request.channel}.", code="no_sender"
            )
        if request.content_sid:
            # A template: Twilio renders it from ContentSid + ContentVariables; a Body or
            # MediaUrl alongside would be sent as free-form text (error 63016 outside 24 h).
            content = {
                "content_sid": request.content_sid,
                "content_variables": json.dumps(request.content_variables),
            }
        else:
            body, media = self.body_and_media(request)
            content = {"body": body, "media_url": media}
        try:
            sent = self.client.messages.create(
                to=to,
                from_=from_,
                **content,
                status_callback=settings.PUBLIC_BASE_URL + STATUS_CALLBACK_PATH,
            )
        except TwilioRestException as exc:
            raise error_for_status(exc.status, exc.msg, code=str(exc.code or "")) from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"Twilio unreachable: {exc}", code="unreachable") from exc
        status = "failed" if sent.status in ("failed", "undelivered") else "sent"
        return SendResult(provider=self.provider, provider_message_id=sent.sid, status=status)

    @staticmethod
    def body_and_media(request: OutboundRequest) -> tuple[str, list[str] | object]:
        """WhatsApp and MMS numbers get the files as `media_url` (Twilio fetches our public
        links); any other SMS number gets the links in the text."""
        if not request.files:
            return request.body, values.unset
        if request.channel == ChannelKind.WHATSAPP or is_mms_capable(request.to):
            return request.body or values.unset, [file.media_url for file in request.files]
        links = [f"{file.filename}: {file.link_url}" for file in request.files]
        return "\n".join([request.body, *links]).strip(), values.unset
