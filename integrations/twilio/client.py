"""Twilio Programmable Messaging (SMS and WhatsApp) through the official SDK."""

import json
from datetime import datetime

import requests
from django.conf import settings
from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException
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
# How many of the latest messages to a number a reconciliation reads.
RECONCILE_LOOKBACK = 20


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

    def addresses(self, request: OutboundRequest) -> tuple[str, str]:
        """(To, From) as Twilio wants them: `whatsapp:`-prefixed on WhatsApp."""
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
        return to, from_

    def find_sent(self, request: OutboundRequest, *, since: datetime) -> list[SendResult]:
        """Messages Twilio holds that match this send (same To, From and Body, created since
        `since`), newest first: how a send that got no answer is reconciled before any retry.

        The list is filtered by To and From, not `DateSent`: a message Twilio accepted but has
        not handed to the carrier yet has no `date_sent`, and is exactly the one we look for.
        """
        to, from_ = self.addresses(request)
        body, _ = self.body_and_media(request)
        body = body if isinstance(body, str) else ""
        try:
            listed = self.client.messages.list(to=to, from_=from_, limit=RECONCILE_LOOKBACK)
        except TwilioRestException as exc:
            raise error_for_status(exc.status, exc.msg, code=str(exc.code or "")) from exc
        except (TwilioException, requests.RequestException) as exc:  # a page it could not read
            raise ProviderUnavailable(f"Twilio unreachable: {exc}", code="unreachable") from exc
        return [
            SendResult(provider=self.provider, provider_message_id=found.sid, status="sent")
            for found in listed
            # A template's text is rendered by Twilio: only the time and number can match it.
            if (
                request.content_sid or (found.body or "") == (body if isinstance(body, str) else "")
            )
            and found.date_created is not None
            and found.date_created >= since
        ]

    def send(self, request: OutboundRequest) -> SendResult:
        to, from_ = self.addresses(request)
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
