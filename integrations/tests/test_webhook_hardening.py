"""Issue 21: no verified webhook is lost, whatever its bytes, size or shape.

Each test here failed before the fix (on PostgreSQL, which refuses NUL and lone surrogates in
text, most of them with a 500 and nothing stored).
"""

import io
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.http import QueryDict
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from integrations import webhooks
from integrations.models import WebhookEvent, WebhookStatus
from integrations.payloads import MalformedPayload
from integrations.shopify.views import sign
from integrations.tests import channels
from integrations.twilio import views as twilio_views
from tickets.models import CustomerIdentity, TicketMessage

pytestmark = pytest.mark.django_db

SHOPIFY_SECRET = "shpss_test_secret"
PARSE_AUTH = channels.basic_auth("parse", "s3cret")


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    return channels.CommittingClient(client, django_capture_on_commit_callbacks)


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.TWILIO_AUTH_TOKEN = channels.TWILIO_TOKEN
    settings.META_APP_SECRET = channels.META_SECRET
    settings.SHOPIFY_WEBHOOK_SECRET = SHOPIFY_SECRET
    settings.SHOPIFY_API_URL = settings.PERP_API_URL = ""
    settings.SENDGRID_INBOUND_USER = "parse"
    settings.SENDGRID_INBOUND_PASSWORD = "s3cret"
    keys = channels.EventWebhookKeys()
    settings.SENDGRID_EVENT_PUBLIC_KEY = keys.public_key
    return keys


def meta_raw(client, raw: bytes, **kwargs):
    signature = channels.meta_signature(raw)
    return client.post(
        "/api/webhooks/meta",
        data=raw,
        content_type=kwargs.get("content_type", "application/json"),
        headers={"X-Hub-Signature-256": signature},
    )


def shopify_raw(client, raw: bytes, *, topic="orders/create", webhook_id="wh-1", **kwargs):
    return client.post(
        "/api/webhooks/shopify",
        data=raw,
        content_type=kwargs.get("content_type", "application/json"),
        headers={
            "X-Shopify-Topic": topic,
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Hmac-Sha256": sign(raw, SHOPIFY_SECRET),
        },
    )


def events_raw(client, keys, raw: bytes):
    return client.post(
        "/api/webhooks/sendgrid/events",
        data=raw,
        content_type="application/json",
        headers=keys.headers(raw),
    )


def parse_form(**overrides):
    return {
        "headers": channels.parse_headers(message_id="<big@mail.example.com>"),
        "from": "Jane Doe <jane@example.com>",
        "to": "support@printdesk.local",
        "subject": "Artwork",
        "text": "Hello",
        "charsets": json.dumps({"text": "utf-8", "subject": "utf-8", "from": "utf-8"}),
        **overrides,
    }


# Finding 1: NUL, lone surrogates, depth and wrong types ------------------------------------------


def test_twilio_sms_with_nul_is_stored_exactly_and_processed(client):
    params = channels.twilio_sms(sid="SMnul", body="Hi\x00there")
    response = channels.twilio_post(client, "/api/webhooks/twilio", params)
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert bytes(event.raw_body) == urlencode(params).encode()
    assert event.text_repairs == ["Body: 1 characters replaced"]
    assert event.status == WebhookStatus.PROCESSED
    assert TicketMessage.objects.get().body == "Hi\ufffdthere"


def test_meta_lone_surrogate_is_replaced_and_recorded(client):
    raw = (
        b'{"object": "page", "entry": [{"id": "P", "messaging": [{"sender": {"id": "42"}, '
        b'"message": {"mid": "m_sur", "text": "a\\ud800b"}}]}]}'
    )
    assert meta_raw(client, raw).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookStatus.PROCESSED
    assert event.text_repairs == ["messaging.message.text: 1 characters replaced"]
    assert b"\\ud800" in bytes(event.raw_body)  # the item, losslessly
    assert TicketMessage.objects.get().body == "a\ufffdb"


def test_shopify_nul_in_payload_is_stored(client):
    raw = json.dumps({"id": 1, "email": "a\x00@example.com"}).encode()
    assert shopify_raw(client, raw, topic="customers/update").status_code == 200
    event = WebhookEvent.objects.get()
    assert bytes(event.raw_body) == raw
    assert event.payload["email"] == "a\ufffd@example.com"
    assert event.text_repairs == ["email: 1 characters replaced"]


def test_sendgrid_event_id_with_nul_is_kept_distinct(client, secrets):
    raw = json.dumps(
        [{"event": "delivered", "sg_event_id": "e\x00"}, {"event": "open", "sg_event_id": "e"}]
    ).encode()
    assert events_raw(client, secrets, raw).status_code == 200
    assert sorted(WebhookEvent.objects.values_list("event_id", flat=True))[0] == "e"
    assert WebhookEvent.objects.count() == 2


def test_parse_mail_with_nul_in_text(client):
    form = parse_form(text="Size A4\x00 please")
    assert client.post("/api/webhooks/sendgrid", data=form, headers=PARSE_AUTH).status_code == 200
    assert TicketMessage.objects.get().body == "Size A4\ufffd please"
    assert WebhookEvent.objects.get().text_repairs == ["text: 1 characters replaced"]


@pytest.mark.parametrize("depth", [65, 100_000])
def test_deeply_nested_json_is_stored_as_failed(client, depth):
    raw = b"[" * depth + b"]" * depth
    assert meta_raw(client, raw).status_code == 200
    assert shopify_raw(client, raw).status_code == 200
    for event in WebhookEvent.objects.all():
        assert event.status == WebhookStatus.FAILED
        assert "nested" in event.error
        assert bytes(event.raw_body) == raw
    assert WebhookEvent.objects.count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {"object": "page", "entry": [{"messaging": ["x"]}]},
        {"object": "page", "entry": "x"},
        {"object": "page", "entry": [{"messaging": [{"message": "x"}]}]},
        {"object": "page", "entry": [{"messaging": [{"message": {"mid": 5}}]}]},
        ["not", "an", "object"],
    ],
)
def test_meta_payload_of_wrong_shape_is_stored_as_failed(client, body):
    raw = json.dumps(body).encode()
    assert meta_raw(client, raw).status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.kind, event.status) == ("unparsed:meta", WebhookStatus.FAILED)
    assert event.error
    assert bytes(event.raw_body) == raw


def test_meta_field_of_wrong_type_fails_the_event_with_its_reason(client):
    body = channels.meta_message(mid="m_types", sender="42", text=["not", "text"])
    assert channels.meta_post(client, body).status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookStatus.FAILED
    assert "AttributeError" in event.error


# Needing attention, reprocess ---------------------------------------------------------------------


def test_failed_events_are_listed_for_attention_and_reprocessed_once(
    client, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_JSON_DEPTH = 3
    body = channels.meta_message(mid="m_deep", sender="42", text="Hello")
    assert channels.meta_post(client, body).status_code == 200
    unparsed = WebhookEvent.objects.get()
    assert list(webhooks.list_webhook_events_needing_attention()) == [unparsed]
    assert not TicketMessage.objects.exists()

    settings.WEBHOOK_MAX_JSON_DEPTH = 64  # the fix is deployed
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("reprocess_webhooks", "--failed", stdout=io.StringIO())
    unparsed.refresh_from_db()
    assert unparsed.status == WebhookStatus.PROCESSED
    assert TicketMessage.objects.get().provider_message_id == "m_deep"
    assert WebhookEvent.objects.filter(kind="message", status=WebhookStatus.PROCESSED).count() == 1
    assert not webhooks.list_webhook_events_needing_attention().exists()


def test_admin_lists_events_needing_attention_and_reprocesses(
    client, admin_client, django_capture_on_commit_callbacks
):
    assert meta_raw(client, b"not json").status_code == 200
    event = WebhookEvent.objects.get()
    url = "/admin/integrations/inboundeventneedingattention/"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "Body is not JSON" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url, {"action": "reprocess", "_selected_action": [event.pk]}, follow=True
        )
    assert response.status_code == 200
    event.refresh_from_db()
    assert event.status == WebhookStatus.FAILED and event.attempts == 1
    assert admin_client.get(f"{url}{event.pk}/change/").status_code == 200


def test_events_unprocessed_for_too_long_need_attention_too(settings):
    settings.WEBHOOK_STUCK_AFTER_MINUTES = 15
    kwargs = dict(provider="twilio", kind="message", raw_body=b"", payload={}, process=False)
    stuck = webhooks.record_webhook_event(event_id="SMold", **kwargs).event
    fresh = webhooks.record_webhook_event(event_id="SMnew", **kwargs).event
    WebhookEvent.objects.filter(pk=stuck.pk).update(
        received_at=timezone.now() - timedelta(minutes=16)
    )
    assert list(webhooks.list_webhook_events_needing_attention()) == [stuck]
    assert fresh.status == WebhookStatus.RECEIVED


@pytest.mark.parametrize(("role", "status"), [(Role.ADMIN, 200), (None, 403)])
def test_attention_list_needs_the_webhook_log_permission(role, status):
    user = UserFactory(role=role, is_staff=True)
    browser = Client()
    browser.force_login(user)
    assert browser.get("/admin/integrations/inboundeventneedingattention/").status_code == status


# Finding 3: email bodies over Django's 5 MB in-memory field limit -------------------------------


def test_parse_mail_with_a_huge_text_body_is_stored_truncated_and_kept_whole(client, settings):
    settings.INBOUND_EMAIL_BODY_MAX_CHARS = 1000
    text = "Please print this. " + "x" * (6 * 1024 * 1024)
    response = client.post("/api/webhooks/sendgrid", data=parse_form(text=text), headers=PARSE_AUTH)
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookStatus.PROCESSED
    assert event.payload["truncated"] == {"text": len(text)}
    with webhooks.open_raw(event) as raw:
        assert text.encode() in raw.read()  # the whole body, in the stored raw request
    message = TicketMessage.objects.get()
    assert message.body.startswith("Please print this. xxx") and len(message.body) < 1500
    assert f"inbound webhook event #{event.pk}" in message.body
    [attachment] = message.attachments.all()  # the whole text part, for staff
    assert (attachment.filename, attachment.size) == ("message.txt", len(text))


# Finding 5: identities and ids of real providers' lengths ---------------------------------------


def test_long_meta_message_ids_sharing_a_prefix_are_two_messages(client):
    # Instagram message ids are long base64 strings; Meta documents no maximum.
    prefix = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAxNjQ4NzAy" * 6
    for mid in (prefix + "MQ==", prefix + "Mg=="):
        body = channels.meta_message(mid=mid, sender="17841400000000000", obj="instagram")
        assert channels.meta_post(client, body).status_code == 200
    assert sorted(TicketMessage.objects.values_list("provider_message_id", flat=True)) == [
        prefix + "MQ==",
        prefix + "Mg==",
    ]
    assert WebhookEvent.objects.filter(status=WebhookStatus.PROCESSED).count() == 2


def test_longest_email_address_and_message_id(client):
    local = "l" * 64  # RFC 5321: local part up to 64, domain up to 255
    domain = ".".join(["d" * 63, "e" * 63, "f" * 63, "g" * 59]) + ".com"
    address = f"{local}@{domain}"
    message_id = "<" + "i" * 900 + "@mail.example.com>"
    form = parse_form(**{"from": address, "headers": channels.parse_headers(message_id=message_id)})
    assert (len(address), len(domain)) == (320, 255)
    assert client.post("/api/webhooks/sendgrid", data=form, headers=PARSE_AUTH).status_code == 200
    assert CustomerIdentity.objects.get().value == address
    message = TicketMessage.objects.get()
    assert (message.sender, message.email_message_id) == (address, message_id)


def test_twilio_sid_of_documented_length(client):
    sid = "SM" + "0123456789abcdef" * 2  # 34 characters, ^(SM|MM)[0-9a-fA-F]{32}$
    params = channels.twilio_sms(sid=sid)
    assert channels.twilio_post(client, "/api/webhooks/twilio", params).status_code == 200
    assert TicketMessage.objects.get().provider_message_id == sid


# Finding 6: odd content types ---------------------------------------------------------------------


def post_bytes(path: str, raw: bytes, content_type: str, headers: dict):
    """POST `raw` unchanged (the test client would re-encode it in the declared charset)."""
    return Client().generic("POST", path, raw, content_type=content_type, headers=headers)


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded; charset=iso-8859-1", "application/x-www-form-urlencoded"],
)
def test_parse_refuses_a_non_utf8_urlencoded_post_with_415(content_type):
    raw = b"text=caf\xe9&from=%E9t%E9"
    response = post_bytes("/api/webhooks/sendgrid", raw, content_type, PARSE_AUTH)
    assert response.status_code == 415
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "multipart/form-data; boundary=x", "application/json", ""],
)
def test_twilio_refuses_other_content_types_with_415(client, content_type):
    response = client.post(
        "/api/webhooks/twilio",
        data=b"MessageSid=SM1",
        content_type=content_type,
        headers={"X-Twilio-Signature": "x"},
    )
    assert response.status_code == 415


def test_twilio_refuses_a_form_in_another_charset():
    content_type = "application/x-www-form-urlencoded; charset=latin-1"
    headers = {"X-Twilio-Signature": "x"}
    response = post_bytes("/api/webhooks/twilio", b"Body=caf\xe9", content_type, headers)
    assert response.status_code == 415


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x", ""])
def test_json_webhooks_read_the_signed_body_whatever_the_content_type(client, content_type):
    raw = json.dumps(channels.meta_message(mid="m_ct", sender="42")).encode()
    assert meta_raw(client, raw, content_type=content_type).status_code == 200
    assert shopify_raw(client, b"{}", content_type=content_type).status_code == 200
    assert WebhookEvent.objects.count() == 2


def test_parse_with_an_unterminated_multipart_body_is_stored(client):
    raw = b'--B\r\nContent-Disposition: form-data; name="text"\r\n\r\nno end'
    response = client.post(
        "/api/webhooks/sendgrid",
        data=raw,
        content_type="multipart/form-data; boundary=B",
        headers=PARSE_AUTH,
    )
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.kind, event.status, event.payload["text"]) == ("inbound", "failed", "no end")
    assert "not an email address" in event.error


def test_parse_multipart_without_boundary_is_stored_unparsed(client):
    response = client.post(
        "/api/webhooks/sendgrid", data=b"x", content_type="multipart/form-data", headers=PARSE_AUTH
    )
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.kind, event.status) == ("unparsed:sendgrid.inbound", WebhookStatus.FAILED)
    assert "boundary" in event.error and bytes(event.raw_body) == b"x"


@pytest.mark.parametrize(
    "body",
    [
        b"MessageSid=SM1&Body=first&Body=last&Empty=",
        "MessageSid=SM1&Body=caf\u00e9".encode("latin-1"),  # not UTF-8: read as Latin-1
        b"MessageSid=SM1&Body=%F0%9F%96%A8+ok&a=%zz",
    ],
)
def test_twilio_reads_form_fields_as_querydict_would(body):
    [item] = twilio_views.split_message(io.BytesIO(body), {})
    assert item.payload == QueryDict(body, encoding="utf-8").dict()


def test_twilio_form_with_too_many_fields_is_malformed(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    with pytest.raises(MalformedPayload):
        twilio_views.split_message(io.BytesIO(b"MessageSid=SM1&a=1&b=2&c=3"), {})
