"""Signing helpers and wire-format payloads for the channel webhook tests.

Requests are signed with the providers' own code (Twilio's RequestValidator, ECDSA keys like
SendGrid's) so the tests exercise exactly what production receives.
"""

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.utils import timezone
from twilio.request_validator import RequestValidator

from tickets import services as ticket_services
from tickets.models import TicketMessage

TWILIO_SID = "AC" + "a" * 32
TWILIO_TOKEN = "twilio-test-token"
META_SECRET = "meta-app-secret"
FORM = "application/x-www-form-urlencoded"


def twilio_post(client, path: str, params: dict, *, token: str = TWILIO_TOKEN, signature=None):
    if signature is None:
        signature = RequestValidator(token).compute_signature(
            settings.PUBLIC_BASE_URL + path, params
        )
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return client.post(path, data=urlencode(params), content_type=FORM, headers=headers)


def twilio_sms(*, sid: str, sender: str = "+15551230001", body: str = "Hello", **extra) -> dict:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": TWILIO_SID,
        "From": sender,
        "To": "+15559990000",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def twilio_status(*, sid: str, status: str, **extra) -> dict:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": TWILIO_SID,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": "+15551230001",
        "From": "+15559990000",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def meta_signature(raw: bytes, *, secret: str = META_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def meta_post(client, body: dict, *, secret: str = META_SECRET, signature=None):
    raw = json.dumps(body).encode()
    if signature is None:
        signature = meta_signature(raw, secret=secret)
    headers = {"X-Hub-Signature-256": signature} if signature else {}
    return client.post(
        "/api/webhooks/meta", data=raw, content_type="application/json", headers=headers
    )


def meta_message(*, mid: str, sender: str, text: str = "Hi", obj: str = "page", **message):
    return {
        "object": obj,
        "entry": [
            {
                "id": "PAGE_ID",
                "time": 1732550000000,
                "messaging": [
                    {
                        "sender": {"id": sender},
                        "recipient": {"id": "PAGE_ID"},
                        "timestamp": 1732550000000,
                        "message": {"mid": mid, "text": text, **message},
                    }
                ],
            }
        ],
    }


class EventWebhookKeys:
    """An ECDSA P-256 key pair like SendGrid's Event Webhook verification key."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()

    def headers(self, raw: bytes, *, timestamp: str | None = None) -> dict:
        timestamp = timestamp or str(int(time.time()))
        signature = self.private_key.sign(timestamp.encode() + raw, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        }


def basic_auth(user: str, password: str) -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def parse_headers(*, message_id: str, in_reply_to: str = "", references: str = "") -> str:
    lines = [
        "Received: from mail.example.com by mx.sendgrid.net",
        f"Message-ID: {message_id}",
        "From: Jane Doe <Jane@Example.com>",
        "To: support@printdesk.local",
        "Subject: Re: My order",
        "MIME-Version: 1.0",
    ]
    if in_reply_to:
        lines.append(f"In-Reply-To: {in_reply_to}")
    if references:
        lines.append(f"References: {references}")
    return "\n".join(lines) + "\n"


class CommittingClient:
    """A test client whose requests run their on-commit work (webhook processing, delivery)."""

    def __init__(self, client, capture_on_commit) -> None:
        self.client = client
        self.capture_on_commit = capture_on_commit

    def post(self, *args, **kwargs):
        with self.capture_on_commit(execute=True):
            return self.client.post(*args, **kwargs)

    def get(self, *args, **kwargs):
        with self.capture_on_commit(execute=True):
            return self.client.get(*args, **kwargs)


def customer_writes(fake, *, ticket, channel: str, sender: str, at=None, body: str = "Hi"):
    """The customer's message as both our database and the fake provider saw it (the fake
    enforces the messaging windows from it); `at` backdates it."""
    message = ticket_services.record_inbound_message(
        ticket=ticket, channel=channel, sender=sender, body=body
    )
    if at is not None:
        TicketMessage.objects.filter(pk=message.pk).update(created_at=at)
    address = f"whatsapp:{sender}" if channel == "whatsapp" else sender
    fake.customer_wrote(address, at=(at or timezone.now()).timestamp())
    return message


def wait_for(message: TicketMessage, *statuses: str) -> TicketMessage:
    """The message once the fake's status callback moved it to one of `statuses` (or as it is
    after 15 s on a loaded CI machine)."""
    for _ in range(300):
        message.refresh_from_db()
        if message.delivery_status in statuses:
            break
        time.sleep(0.05)
    return message
