"""Customers' files arrive on every channel, are downloaded safely and open from the ticket.

Signed webhooks as the providers send them; Twilio media is served by the fake with Twilio's
basic-auth rule and its redirect to a signed CDN URL; Meta links by the fake's CDN.
"""

import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from accounts.tests.factories import UserFactory
from integrations.fakes.messaging import FakeMessaging
from integrations.tests import channels
from tickets.models import Attachment, AttachmentState, TicketMessage
from tickets.tests.factories import image_bytes, pdf_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    return channels.CommittingClient(client, django_capture_on_commit_callbacks)


@pytest.fixture
def fake(settings):
    fake = FakeMessaging(
        public_base_url="http://127.0.0.1:9",
        twilio_auth_token=channels.TWILIO_TOKEN,
        twilio_account_sid=channels.TWILIO_SID,
        meta_app_secret=channels.META_SECRET,
    ).start()
    settings.TWILIO_ACCOUNT_SID = channels.TWILIO_SID
    settings.TWILIO_AUTH_TOKEN = channels.TWILIO_TOKEN
    settings.TWILIO_API_URL = fake.url
    settings.META_APP_SECRET = channels.META_SECRET
    settings.SENDGRID_INBOUND_USER, settings.SENDGRID_INBOUND_PASSWORD = "parse", "s3cret"
    yield fake
    fake.stop()


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def mms(fake, *, sid: str, url: str, content_type: str = "image/jpeg") -> dict:
    return channels.twilio_sms(
        sid=sid,
        body="Here is the damaged banner",
        NumMedia="1",
        MediaUrl0=url,
        MediaContentType0=content_type,
    )


def open_from_timeline(client, agent, attachment: Attachment) -> bytes:
    """What the agent sees: the timeline links the file (with a thumbnail) and it downloads."""
    client.client.force_login(agent)
    page = client.get(f"/tickets/{attachment.ticket.reference}/timeline/").content.decode()
    assert f'href="/attachments/{attachment.pk}/"' in page
    assert f'src="/attachments/{attachment.pk}/preview/"' in page
    preview = client.get(f"/attachments/{attachment.pk}/preview/")
    assert preview.status_code == 200 and preview["Content-Type"] == "image/png"
    response = client.get(f"/attachments/{attachment.pk}/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_mms_jpeg_is_downloaded_with_twilio_basic_auth(client, fake, agent):
    jpeg = image_bytes("JPEG")
    url = fake.add_twilio_media(message_sid="MM1", content_type="image/jpeg", data=jpeg)
    assert (
        channels.twilio_post(
            client, "/api/webhooks/twilio", mms(fake, sid="MM1", url=url)
        ).status_code
        == 200
    )

    attachment = Attachment.objects.get()
    assert attachment.state == AttachmentState.STORED
    assert (attachment.content_type, attachment.size, attachment.sha256) == (
        "image/jpeg",
        len(jpeg),
        sha(jpeg),
    )
    assert attachment.source_url == url and attachment.preview_key
    media_get, cdn_get = fake.fetches
    assert media_get["headers"]["Authorization"].startswith("Basic ")
    assert "Authorization" not in cdn_get["headers"]  # credentials never follow the redirect
    assert sha(open_from_timeline(client, agent, attachment)) == sha(jpeg)


def test_twilio_media_without_credentials_is_refused_by_the_fake(client, fake, settings):
    settings.TWILIO_AUTH_TOKEN = "wrong-token-but-signed"
    url = fake.add_twilio_media(message_sid="MM2", content_type="image/jpeg", data=image_bytes())
    params = mms(fake, sid="MM2", url=url)
    channels.twilio_post(client, "/api/webhooks/twilio", params, token="wrong-token-but-signed")
    attachment = Attachment.objects.get()
    assert attachment.state == AttachmentState.FAILED and "401" in attachment.error
    assert TicketMessage.objects.get().body == "Here is the damaged banner"


def test_email_pdf_attachment_is_stored_with_a_first_page_preview(client, fake, agent):
    pdf = pdf_bytes()
    form = {
        "headers": channels.parse_headers(message_id="<art@mail.example.com>"),
        "from": "Jane <jane@example.com>",
        "to": "support@printdesk.local",
        "subject": "Our logo",
        "text": "Logo attached.",
        "charsets": json.dumps({"text": "utf-8", "subject": "utf-8"}),
        "attachments": "1",
        "attachment-info": json.dumps(
            {"attachment1": {"filename": "logo.pdf", "type": "application/pdf"}}
        ),
        "attachment1": SimpleUploadedFile("logo.pdf", pdf, content_type="application/pdf"),
    }
    response = client.post(
        "/api/webhooks/sendgrid", data=form, headers=channels.basic_auth("parse", "s3cret")
    )
    assert response.status_code == 200
    attachment = Attachment.objects.get()
    assert (attachment.filename, attachment.content_type) == ("logo.pdf", "application/pdf")
    assert attachment.sha256 == sha(pdf) and attachment.preview_key
    assert sha(open_from_timeline(client, agent, attachment)) == sha(pdf)


def test_email_inline_cid_image_shows_in_the_body(client, fake, agent):
    png = image_bytes("PNG")
    form = {
        "headers": channels.parse_headers(message_id="<inline@mail.example.com>"),
        "from": "jane@example.com",
        "subject": "Sign",
        "text": "See the sign",
        "html": '<p>See <img src="cid:sign@x" alt="sign"><img src="https://evil.test/p.gif"></p>',
        "attachments": "1",
        "attachment-info": json.dumps(
            {"attachment1": {"filename": "sign.png", "type": "image/png", "content-id": "sign@x"}}
        ),
        "content-ids": json.dumps({"sign@x": "attachment1"}),
        "attachment1": SimpleUploadedFile("sign.png", png, content_type="image/png"),
    }
    client.post("/api/webhooks/sendgrid", data=form, headers=channels.basic_auth("parse", "s3cret"))
    attachment = Attachment.objects.get()
    assert attachment.content_id == "sign@x"
    client.client.force_login(agent)
    page = client.get(f"/tickets/{attachment.ticket.reference}/timeline/").content.decode()
    assert f'<img src="/attachments/{attachment.pk}/" alt="sign">' in page
    assert "evil.test" not in page


def test_messenger_image_is_downloaded_promptly(client, fake, agent):
    jpeg = image_bytes("JPEG", (120, 90))
    url = fake.add_meta_media(name="123_456_n.jpg", content_type="image/jpeg", data=jpeg)
    body = channels.meta_message(
        mid="m_img",
        sender="4242",
        text="",
        attachments=[{"type": "image", "payload": {"url": url}}],
    )
    assert channels.meta_post(client, body).status_code == 200
    attachment = Attachment.objects.get()
    assert (attachment.filename, attachment.state) == ("123_456_n.jpg", AttachmentState.STORED)
    assert "Authorization" not in fake.fetches[0]["headers"]
    assert sha(open_from_timeline(client, agent, attachment)) == sha(jpeg)


def test_api_lists_files_with_their_fields_and_anonymous_is_refused(client, fake, agent):
    jpeg = image_bytes()
    url = fake.add_twilio_media(message_sid="MM3", content_type="image/jpeg", data=jpeg)
    channels.twilio_post(client, "/api/webhooks/twilio", mms(fake, sid="MM3", url=url))
    attachment = Attachment.objects.get()
    assert client.get(f"/attachments/{attachment.pk}/").status_code in (401, 403)

    client.client.force_login(agent)
    messages = client.get(f"/api/tickets/{attachment.ticket.reference}/messages/").json()
    assert messages[0]["attachments"] == [
        {
            "id": attachment.pk,
            "filename": attachment.filename,
            "content_type": "image/jpeg",
            "size": len(jpeg),
            "sha256": sha(jpeg),
            "url": f"/attachments/{attachment.pk}/",
            "state": "stored",
        }
    ]


# The SSRF guard, size caps and retries -----------------------------------------------------------


def test_media_url_on_a_host_not_allowed_is_never_fetched(client, fake, settings):
    other = FakeMessaging(
        public_base_url="http://127.0.0.1:9", twilio_auth_token="t", meta_app_secret="m"
    ).start()
    try:
        settings.MEDIA_FETCH_ALLOWED_HOSTS = [fake.url.removeprefix("http://")]
        url = other.add_meta_media(name="x.jpg", content_type="image/jpeg", data=image_bytes())
        body = channels.meta_message(
            mid="m_ssrf", sender="4242", attachments=[{"type": "image", "payload": {"url": url}}]
        )
        channels.meta_post(client, body)
        assert other.fetches == []
    finally:
        other.stop()
    attachment = Attachment.objects.get()
    assert attachment.state == AttachmentState.FAILED
    assert attachment.source_url == url and "not an allowed media host" in attachment.error


def test_redirect_to_a_host_not_allowed_is_never_followed(client, fake, settings):
    other = FakeMessaging(
        public_base_url="http://127.0.0.1:9", twilio_auth_token="t", meta_app_secret="m"
    ).start()
    try:
        settings.MEDIA_FETCH_ALLOWED_HOSTS = [fake.url.removeprefix("http://")]
        target = other.add_meta_media(name="inner.jpg", content_type="image/jpeg", data=b"x")
        url = fake.add_twilio_redirect(message_sid="MM4", location=target)
        channels.twilio_post(client, "/api/webhooks/twilio", mms(fake, sid="MM4", url=url))
        assert other.fetches == []
    finally:
        other.stop()
    assert len(fake.fetches) == 1
    assert Attachment.objects.get().state == AttachmentState.FAILED


def test_file_over_the_size_cap_is_refused(client, fake, settings):
    settings.MEDIA_FETCH_MAX_BYTES = 1000
    url = fake.add_twilio_media(
        message_sid="MM5", content_type="image/jpeg", data=b"\xff\xd8\xff" + b"0" * 5000
    )
    channels.twilio_post(client, "/api/webhooks/twilio", mms(fake, sid="MM5", url=url))
    attachment = Attachment.objects.get()
    assert attachment.state == AttachmentState.FAILED and "larger than" in attachment.error
    assert attachment.storage_key == ""


def test_provider_outage_is_retried_then_stored(client, fake):
    jpeg = image_bytes()
    url = fake.add_twilio_media(message_sid="MM6", content_type="image/jpeg", data=jpeg)
    fake.media_failures = 2
    channels.twilio_post(client, "/api/webhooks/twilio", mms(fake, sid="MM6", url=url))
    attachment = Attachment.objects.get()
    assert (attachment.state, attachment.fetch_attempts) == (AttachmentState.STORED, 3)


def test_failed_download_shows_unavailable_and_retry_fetches_it(client, fake, agent):
    jpeg = image_bytes()
    url = fake.add_twilio_media(message_sid="MM7", content_type="image/jpeg", data=jpeg)
    fake.media_failures = 10
    channels.twilio_post(client, "/api/webhooks/twilio", mms(fake, sid="MM7", url=url))
    attachment = Attachment.objects.get()
    assert attachment.state == AttachmentState.FAILED
    client.client.force_login(agent)
    page = client.get(f"/tickets/{attachment.ticket.reference}/timeline/").content.decode()
    assert "file unavailable — " in page and f"/attachments/{attachment.pk}/retry/" in page

    fake.media_failures = 0
    response = client.post(f"/attachments/{attachment.pk}/retry/")
    assert response.status_code == 302
    attachment.refresh_from_db()
    assert attachment.state == AttachmentState.STORED and attachment.sha256 == sha(jpeg)
