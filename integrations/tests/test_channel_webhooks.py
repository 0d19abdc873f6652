"""Inbound webhooks: signature checks first, then one stored event per provider event id."""

import json
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from integrations.models import WebhookEvent, WebhookStatus
from integrations.tests import channels
from tickets.models import AttachmentState, ChannelKind, Customer, Ticket, TicketMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    return channels.CommittingClient(client, django_capture_on_commit_callbacks)


@pytest.fixture
def secrets(settings):
    settings.TWILIO_ACCOUNT_SID = channels.TWILIO_SID
    settings.TWILIO_AUTH_TOKEN = channels.TWILIO_TOKEN
    settings.META_APP_SECRET = channels.META_SECRET
    settings.META_VERIFY_TOKEN = "verify-me"
    settings.SENDGRID_INBOUND_USER = "parse"
    settings.SENDGRID_INBOUND_PASSWORD = "s3cret"
    keys = channels.EventWebhookKeys()
    settings.SENDGRID_EVENT_PUBLIC_KEY = keys.public_key
    return keys


# Twilio ------------------------------------------------------------------------------------------


def test_twilio_sms_creates_ticket_and_message(client, secrets):
    response = channels.twilio_post(
        client, "/api/webhooks/twilio", channels.twilio_sms(sid="SM1", body="Where is my order?")
    )
    assert response.status_code == 200
    assert b"<Response>" in response.content
    message = TicketMessage.objects.get()
    assert (message.provider, message.provider_message_id) == ("twilio", "SM1")
    assert message.channel == ChannelKind.SMS
    assert message.sender == "+15551230001"
    assert message.ticket.subject == "Where is my order?"
    event = WebhookEvent.objects.get()
    assert (event.event_id, event.status) == ("SM1", WebhookStatus.PROCESSED)
    assert "X-Twilio-Signature" in event.headers


def test_twilio_whatsapp_with_media(client, secrets):
    params = channels.twilio_sms(
        sid="MM2",
        sender="whatsapp:+447700900123",
        body="",
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM2/Media/ME1",
        MediaContentType0="image/jpeg",
        ProfileName="Ana",
    )
    assert channels.twilio_post(client, "/api/webhooks/twilio", params).status_code == 200
    message = TicketMessage.objects.get()
    assert message.channel == ChannelKind.WHATSAPP
    assert message.sender == "+447700900123"
    # api.twilio.com is not on the tests' allow-list: the link is kept, the download refused.
    [attachment] = message.attachments.all()
    assert (attachment.source_url, attachment.declared_type) == (params["MediaUrl0"], "image/jpeg")
    assert attachment.state == AttachmentState.FAILED
    customer = message.ticket.customer
    assert customer.name == "Ana"
    assert customer.identities.get().kind == "whatsapp"


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl"])
def test_twilio_rejects_missing_or_bad_signature(client, secrets, signature, caplog):
    with caplog.at_level(logging.WARNING):
        response = channels.twilio_post(
            client, "/api/webhooks/twilio", channels.twilio_sms(sid="SM3"), signature=signature
        )
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists() and not Ticket.objects.exists()
    assert "twilio.webhook.bad_signature" in caplog.text


def test_twilio_signature_over_other_params_is_rejected(client, secrets):
    signed = channels.twilio_sms(sid="SM4", body="original")
    signature = channels.RequestValidator(channels.TWILIO_TOKEN).compute_signature(
        "http://127.0.0.1:8000/api/webhooks/twilio", signed
    )
    tampered = {**signed, "Body": "tampered"}
    response = channels.twilio_post(client, "/api/webhooks/twilio", tampered, signature=signature)
    assert response.status_code == 403


def test_twilio_without_auth_token_rejects_everything(client, secrets, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    response = channels.twilio_post(
        client, "/api/webhooks/twilio", channels.twilio_sms(sid="SM5"), token="anything"
    )
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


def test_twilio_replay_is_a_no_op(client, secrets):
    params = channels.twilio_sms(sid="SM6")
    for _ in range(3):
        assert channels.twilio_post(client, "/api/webhooks/twilio", params).status_code == 200
    assert WebhookEvent.objects.count() == 1
    assert TicketMessage.objects.count() == 1 and Ticket.objects.count() == 1


# SendGrid Inbound Parse --------------------------------------------------------------------------


def parse_form(**overrides):
    return {
        "headers": channels.parse_headers(message_id="<abc123@mail.example.com>"),
        "from": "Jane Doe <Jane@Example.com>",
        "to": "support@printdesk.local",
        "subject": "Banner sizes",
        "text": "Do you print 3m banners?\n\n-- \nJane Doe\nAcme Ltd",
        "html": '<p>Do you print 3m banners?</p><script>alert(1)</script><img src=x onerror="x()">',
        "envelope": json.dumps({"to": ["support@printdesk.local"], "from": "jane@example.com"}),
        "charsets": json.dumps({"text": "utf-8", "html": "utf-8", "subject": "utf-8"}),
        "spam_score": "0.1",
        "attachments": "0",
        **overrides,
    }


def test_sendgrid_parse_creates_email_ticket(client, secrets):
    form = parse_form(
        attachments="1",
        **{
            "attachment-info": json.dumps(
                {"attachment1": {"filename": "art.pdf", "type": "application/pdf"}}
            )
        },
        attachment1=SimpleUploadedFile("art.pdf", b"%PDF-1.4 test", content_type="application/pdf"),
    )
    response = client.post(
        "/api/webhooks/sendgrid", data=form, headers=channels.basic_auth("parse", "s3cret")
    )
    assert response.status_code == 200
    message = TicketMessage.objects.get()
    assert message.channel == ChannelKind.EMAIL
    assert message.sender == "jane@example.com"
    assert message.email_message_id == "<abc123@mail.example.com>"
    assert message.body == "Do you print 3m banners?"
    assert "Acme Ltd" in message.original_body
    assert "<script" not in message.body_html and "onerror" not in message.body_html
    assert message.ticket.subject == "Banner sizes"
    assert message.ticket.customer.name == "Jane Doe"
    [attachment] = message.attachments.all()
    assert (attachment.filename, attachment.content_type) == ("art.pdf", "application/pdf")
    assert attachment.state == AttachmentState.STORED and attachment.storage_key.endswith(".pdf")


def test_sendgrid_parse_decodes_each_field_in_its_charset(client, secrets):
    body = (
        (
            "--B\r\n"
            'Content-Disposition: form-data; name="headers"\r\n\r\n'
            "Message-ID: <latin@example.com>\r\n"
            "--B\r\n"
            'Content-Disposition: form-data; name="from"\r\n\r\n'
            "Zoë <zoe@example.com>\r\n"
            "--B\r\n"
            'Content-Disposition: form-data; name="subject"\r\n\r\n'
            "Größe\r\n"
            "--B\r\n"
            'Content-Disposition: form-data; name="text"\r\n\r\n'
        ).encode()
        + "Ça coûte combien ?".encode("iso-8859-1")
        + (
            b"\r\n--B\r\n"
            b'Content-Disposition: form-data; name="charsets"\r\n\r\n'
            b'{"from": "UTF-8", "subject": "UTF-8", "text": "iso-8859-1", "headers": "UTF-8"}\r\n'
            b"--B--\r\n"
        )
    )
    response = client.post(
        "/api/webhooks/sendgrid",
        data=body,
        content_type="multipart/form-data; boundary=B",
        headers=channels.basic_auth("parse", "s3cret"),
    )
    assert response.status_code == 200
    message = TicketMessage.objects.get()
    assert message.body == "Ça coûte combien ?"
    assert message.ticket.subject == "Größe"
    assert message.ticket.customer.name == "Zoë"


@pytest.mark.parametrize(
    "auth", [{}, channels.basic_auth("parse", "wrong"), {"Authorization": "Basic !!!"}]
)
def test_sendgrid_parse_requires_basic_auth(client, secrets, auth, caplog):
    with caplog.at_level(logging.WARNING):
        response = client.post("/api/webhooks/sendgrid", data=parse_form(), headers=auth)
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()
    assert "sendgrid.webhook.bad_signature" in caplog.text


def test_sendgrid_parse_replay_is_a_no_op(client, secrets):
    auth = channels.basic_auth("parse", "s3cret")
    for _ in range(2):
        assert (
            client.post("/api/webhooks/sendgrid", data=parse_form(), headers=auth).status_code
            == 200
        )
    assert TicketMessage.objects.count() == 1


# SendGrid Event Webhook --------------------------------------------------------------------------


def post_events(client, keys, events, **header_overrides):
    raw = json.dumps(events).encode()
    headers = {**keys.headers(raw), **header_overrides}
    return client.post(
        "/api/webhooks/sendgrid/events", data=raw, content_type="application/json", headers=headers
    )


def sendgrid_outbound(**kwargs):
    from tickets.tests.factories import OutboundMessageFactory

    return OutboundMessageFactory(
        channel="email", provider="sendgrid", provider_message_id="14c5d75ce93", **kwargs
    )


def test_sendgrid_events_update_status_in_order(client, secrets):
    message = sendgrid_outbound()
    events = [
        {
            "email": "a@example.com",
            "timestamp": 1,
            "event": "delivered",
            "sg_event_id": "e1",
            "sg_message_id": "14c5d75ce93.filter0001.16648.5515E0B88.0",
        },
        {
            "email": "a@example.com",
            "timestamp": 2,
            "event": "processed",
            "sg_event_id": "e2",
            "sg_message_id": "14c5d75ce93.filter0001.16648.5515E0B88.0",
        },
    ]
    assert post_events(client, secrets, events).status_code == 200
    message.refresh_from_db()
    assert message.delivery_status == "delivered"  # the late "processed" did not win
    assert WebhookEvent.objects.filter(provider="sendgrid").count() == 2
    assert post_events(client, secrets, events).status_code == 200
    assert WebhookEvent.objects.filter(provider="sendgrid").count() == 2


def test_sendgrid_bounce_keeps_error(client, secrets):
    message = sendgrid_outbound()
    event = {
        "email": "a@example.com",
        "event": "bounce",
        "sg_event_id": "b1",
        "status": "5.1.1",
        "reason": "550 5.1.1 User unknown",
        "pd_message_id": str(message.pk),
    }
    post_events(client, secrets, [event])
    message.refresh_from_db()
    assert (message.delivery_status, message.error_code) == ("failed", "5.1.1")
    assert message.error_message == "550 5.1.1 User unknown"


@pytest.mark.parametrize(
    "override",
    [
        {"X-Twilio-Email-Event-Webhook-Signature": ""},
        {"X-Twilio-Email-Event-Webhook-Signature": "bm90IGEgc2lnbmF0dXJl"},
        {"X-Twilio-Email-Event-Webhook-Timestamp": "1"},
    ],
)
def test_sendgrid_events_reject_bad_signature(client, secrets, override):
    response = post_events(
        client, secrets, [{"event": "delivered", "sg_event_id": "x"}], **override
    )
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_sendgrid_events_signed_by_another_key_are_rejected(client, secrets):
    raw = json.dumps([{"event": "delivered", "sg_event_id": "x"}]).encode()
    other = channels.EventWebhookKeys()
    response = client.post(
        "/api/webhooks/sendgrid/events",
        data=raw,
        content_type="application/json",
        headers=other.headers(raw),
    )
    assert response.status_code == 401


# Meta --------------------------------------------------------------------------------------------


def test_meta_verify_handshake(client, secrets):
    ok = client.get(
        "/api/webhooks/meta",
        {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"},
    )
    assert ok.status_code == 200 and ok.content == b"1158201444"
    bad = client.get(
        "/api/webhooks/meta",
        {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"},
    )
    assert bad.status_code == 403


def test_meta_verify_handshake_refused_without_token(client, secrets, settings):
    settings.META_VERIFY_TOKEN = ""
    response = client.get(
        "/api/webhooks/meta",
        {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(("obj", "channel"), [("page", "facebook"), ("instagram", "instagram")])
def test_meta_message_creates_ticket(client, secrets, obj, channel):
    body = channels.meta_message(
        mid="m_1",
        sender="1234567890",
        text="Do you ship to Spain?",
        obj=obj,
        attachments=[{"type": "image", "payload": {"url": "https://cdn.example.com/a.jpg"}}],
    )
    assert channels.meta_post(client, body).status_code == 200
    message = TicketMessage.objects.get()
    assert (message.channel, message.provider_message_id) == (channel, "m_1")
    [attachment] = message.attachments.all()
    assert (attachment.declared_type, attachment.filename) == ("image/*", "a.jpg")
    assert message.ticket.customer.identities.get().kind == channel


def test_meta_echo_of_our_own_send_is_ignored(client, secrets):
    body = channels.meta_message(
        mid="m_echo", sender="PAGE_ID", is_echo=True, metadata="printdesk:12"
    )
    body["entry"][0]["messaging"][0]["recipient"] = {"id": "1234567890"}
    assert channels.meta_post(client, body).status_code == 200
    assert WebhookEvent.objects.get().status == WebhookStatus.IGNORED
    assert not TicketMessage.objects.exists()


@pytest.mark.parametrize("signature", ["", "sha256=deadbeef", "sha1=abc"])
def test_meta_rejects_bad_signature(client, secrets, signature, caplog):
    with caplog.at_level(logging.WARNING):
        response = channels.meta_post(
            client, channels.meta_message(mid="m_2", sender="1"), signature=signature
        )
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()
    assert "meta.webhook.bad_signature" in caplog.text


def test_meta_without_app_secret_rejects(client, secrets, settings):
    settings.META_APP_SECRET = ""
    response = channels.meta_post(client, channels.meta_message(mid="m_3", sender="1"), secret="")
    assert response.status_code == 403


def test_meta_replay_is_a_no_op(client, secrets):
    body = channels.meta_message(mid="m_4", sender="42")
    for _ in range(2):
        channels.meta_post(client, body)
    assert TicketMessage.objects.count() == 1 and Customer.objects.count() == 1


def test_unprocessable_message_is_recorded_as_failed_not_a_5xx(client, secrets):
    params = channels.twilio_sms(sid="SM10", sender="not-a-number")
    assert channels.twilio_post(client, "/api/webhooks/twilio", params).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookStatus.FAILED
    assert "E.164" in event.error
    assert not TicketMessage.objects.exists()


def test_status_for_unknown_message_is_ignored(client, secrets):
    params = channels.twilio_status(sid="SMunknown", status="delivered")
    assert channels.twilio_post(client, "/api/webhooks/twilio/status", params).status_code == 200
    assert WebhookEvent.objects.get().status == WebhookStatus.IGNORED
