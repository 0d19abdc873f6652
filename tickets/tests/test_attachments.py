"""Ticket files: served only to staff with safe headers, previews, replies and notes with files,
and the providers' limits checked before anything is queued."""

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from accounts.models import Role
from accounts.services import create_api_token
from accounts.tests.factories import UserFactory
from core.events import capture_events
from tickets import services
from tickets.events import AttachmentFetchRequested
from tickets.models import Attachment, AttachmentState, IdentityKind, TicketMessage, TicketStatus
from tickets.previews import generate_attachment_preview
from tickets.tests.factories import (
    AttachmentFactory,
    CustomerIdentityFactory,
    TicketFactory,
    TicketMessageFactory,
    image_bytes,
    pdf_bytes,
)

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def body(response) -> bytes:
    return b"".join(response.streaming_content)


# Serving -----------------------------------------------------------------------------------------


def test_image_is_shown_inline_with_protective_headers(agent_client):
    png = image_bytes("PNG")
    attachment = AttachmentFactory(filename="sign.png", content_type="image/png", data=png)
    response = agent_client.get(f"/attachments/{attachment.pk}/")
    assert response.status_code == 200 and body(response) == png
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith('inline; filename="sign.png"')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")


def test_a_pdf_that_is_really_html_is_never_shown_inline(
    agent_client, django_capture_on_commit_callbacks
):
    """The type comes from the bytes: an emailed "invoice.pdf" full of HTML downloads."""
    message = TicketMessageFactory()
    html = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
    with django_capture_on_commit_callbacks(execute=True):
        [attachment] = services.attachments.attach_uploads(
            ticket=message.ticket,
            uploads=[SimpleUploadedFile("invoice.pdf", html, content_type="application/pdf")],
            uploaded_by=None,
            message=message,
        )
    assert (attachment.content_type, attachment.declared_type) == ("text/html", "application/pdf")
    response = agent_client.get(f"/attachments/{attachment.pk}/")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith('attachment; filename="invoice.pdf"')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert not attachment.preview_key


def test_svg_is_downloaded_not_rendered(agent_client):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    attachment = AttachmentFactory(filename="logo.svg", content_type="image/svg+xml", data=svg)
    response = agent_client.get(f"/attachments/{attachment.pk}/")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"


def test_unicode_file_names_survive(agent_client):
    attachment = AttachmentFactory(filename="Entwurf größer.jpg")
    disposition = agent_client.get(f"/attachments/{attachment.pk}/")["Content-Disposition"]
    assert "filename*=UTF-8''Entwurf%20gr%C3%B6%C3%9Fer.jpg" in disposition


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER])
def test_every_staff_role_may_open_a_file_anonymous_may_not(client, role):
    attachment = AttachmentFactory()
    assert client.get(f"/attachments/{attachment.pk}/").status_code in (401, 403)
    assert client.get(f"/attachments/{attachment.pk}/preview/").status_code in (401, 403)
    client.force_login(UserFactory(role=role))
    assert client.get(f"/attachments/{attachment.pk}/").status_code == 200


def test_missing_file_is_404(agent_client):
    assert agent_client.get("/attachments/999999/").status_code == 404


def test_api_token_can_download(client, agent):
    attachment = AttachmentFactory()
    _, raw = create_api_token(owner=agent, name="files", actor=agent)
    response = client.get(
        f"/attachments/{attachment.pk}/", headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 200


# Previews ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content_type", "data"),
    [
        ("photo.jpg", "image/jpeg", image_bytes("JPEG", (1600, 1200))),
        ("art.pdf", "application/pdf", pdf_bytes(842, 595)),
    ],
)
def test_preview_is_a_small_png(agent_client, filename, content_type, data):
    attachment = AttachmentFactory(filename=filename, content_type=content_type, data=data)
    assert generate_attachment_preview.call(attachment_id=attachment.pk) == "generated"
    assert generate_attachment_preview.call(attachment_id=attachment.pk) == "cached"
    response = agent_client.get(f"/attachments/{attachment.pk}/preview/")
    image = Image.open(io.BytesIO(body(response)))
    assert image.format == "PNG" and max(image.size) == 480


def test_broken_image_has_no_preview_but_stays_downloadable(agent_client):
    attachment = AttachmentFactory(content_type="image/jpeg", data=b"\xff\xd8\xff broken")
    assert generate_attachment_preview.call(attachment_id=attachment.pk) == "failed"
    assert agent_client.get(f"/attachments/{attachment.pk}/").status_code == 200


# Replies and notes with files --------------------------------------------------------------------


def test_api_reply_with_a_file_lists_it(agent_client):
    ticket = TicketFactory(channel="email", status=TicketStatus.OPEN)
    CustomerIdentityFactory(customer=ticket.customer, kind=IdentityKind.EMAIL, value="a@b.example")
    pdf = pdf_bytes()
    response = agent_client.post(
        f"/api/tickets/{ticket.reference}/messages/",
        {"body": "Proof attached", "attachments": [SimpleUploadedFile("proof.pdf", pdf)]},
    )
    assert response.status_code == 201, response.content
    [file] = response.json()["attachments"]
    assert file["filename"] == "proof.pdf" and file["content_type"] == "application/pdf"
    assert file["sha256"] == hashlib.sha256(pdf).hexdigest() and file["state"] == "stored"


def test_note_carries_files_and_forwards_the_customers(agent_client):
    message = TicketMessageFactory(ticket=TicketFactory(status=TicketStatus.OPEN))
    theirs = AttachmentFactory(message=message)
    ticket = message.ticket
    response = agent_client.post(
        f"/api/tickets/{ticket.reference}/notes/",
        {
            "body": "For #graphic-design",
            "attachments": [SimpleUploadedFile("notes.txt", b"bleed 3mm", "text/plain")],
            "forward_attachment_ids": [theirs.pk],
        },
    )
    assert response.status_code == 201, response.content
    files = response.json()["attachments"]
    assert [f["filename"] for f in files] == ["notes.txt", "artwork.jpg"]
    assert files[0]["content_type"] == "text/plain"
    page = agent_client.get(f"/tickets/{ticket.reference}/timeline/").content.decode()
    assert f'href="/attachments/{files[0]["id"]}/"' in page


def test_forwarding_a_file_of_another_ticket_is_refused(agent, agent_client):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    other = AttachmentFactory()
    response = agent_client.post(
        f"/api/tickets/{ticket.reference}/messages/",
        {"body": "x", "channel": "email", "forward_attachment_ids": [other.pk]},
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["code"] == "unknown_attachment"


def test_reply_form_uploads_a_file(agent_client):
    ticket = TicketFactory(channel="email", status=TicketStatus.OPEN)
    response = agent_client.post(
        f"/tickets/{ticket.reference}/reply/",
        {
            "body": "See attached",
            "channel": "email",
            "attachments": SimpleUploadedFile("a.png", image_bytes("PNG")),
        },
    )
    assert response.status_code == 302
    assert TicketMessage.objects.get(ticket=ticket).attachments.get().content_type == "image/png"


def test_message_list_query_count_does_not_grow_with_files(agent_client):
    ticket = TicketFactory()
    AttachmentFactory(message=TicketMessageFactory(ticket=ticket))
    url = f"/api/tickets/{ticket.reference}/messages/"
    agent_client.get(url)  # the first request of a session does its own bookkeeping
    with CaptureQueriesContext(connection) as one:
        agent_client.get(url)
    for _ in range(3):
        AttachmentFactory.create_batch(3, message=TicketMessageFactory(ticket=ticket))
    with CaptureQueriesContext(connection) as many:
        response = agent_client.get(url)
    assert sum(len(m["attachments"]) for m in response.json()) == 10
    assert len(many) == len(one)


# Provider limits ---------------------------------------------------------------------------------


def big(name: str, size: int, head: bytes = b"%PDF-1.4\n") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, head + b"0" * (size - len(head)))


@pytest.mark.parametrize(
    ("channel", "sender", "upload", "limit"),
    [
        ("sms", "+15551230001", big("a.pdf", 5 * MB + 1), "5 MB"),
        ("whatsapp", "+447700900123", big("page.html", 100, b"<html>"), "WhatsApp does not accept"),
        ("whatsapp", "+447700900123", big("a.pdf", 16 * MB + 1), "16 MB"),
        ("whatsapp", "+447700900123", big("a.png", 5 * MB + 1, image_bytes("PNG")), "5 MB"),
        ("email", "a@b.example", big("a.pdf", 23 * MB), "30 MB"),
        ("instagram", "1789", big("a.pdf", 1000), "Instagram"),
        ("facebook", "4242", big("a.pdf", 25 * MB + 1), "25 MB"),
    ],
)
def test_provider_limits_are_a_clear_400(agent_client, channel, sender, upload, limit):
    ticket = TicketFactory(channel=channel, status=TicketStatus.OPEN)
    services.record_inbound_message(ticket=ticket, channel=channel, sender=sender, body="Hi")
    response = agent_client.post(
        f"/api/tickets/{ticket.reference}/messages/",
        {"body": "Files", "channel": channel, "attachments": [upload]},
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "files_too_large" and limit in response.json()["detail"]
    assert not TicketMessage.objects.filter(direction="out").exists()
    assert not Attachment.objects.exists()


def test_sms_to_a_number_without_mms_has_no_mms_limit(agent_client):
    ticket = TicketFactory(channel="sms", status=TicketStatus.OPEN)
    services.record_inbound_message(ticket=ticket, channel="sms", sender="+447700900555", body="x")
    response = agent_client.post(
        f"/api/tickets/{ticket.reference}/messages/",
        {"body": "Files", "attachments": [big("a.pdf", 6 * MB)]},
    )
    assert response.status_code == 201


# Failed downloads --------------------------------------------------------------------------------


def test_retry_of_a_failed_download_asks_integrations_again(agent):
    attachment = AttachmentFactory(
        state=AttachmentState.FAILED,
        storage_key="",
        provider="twilio",
        source_url="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
    )
    with capture_events() as published:
        services.attachments.retry_attachment_fetch(attachment=attachment, actor=agent)
    assert published == [AttachmentFetchRequested(attachment_id=attachment.pk, provider="twilio")]
    attachment.refresh_from_db()
    assert attachment.state == AttachmentState.PENDING


def test_viewer_cannot_retry(client):
    attachment = AttachmentFactory(state=AttachmentState.FAILED, source_url="https://x.test/a")
    client.force_login(UserFactory(role=Role.VIEWER))
    assert client.post(f"/attachments/{attachment.pk}/retry/").status_code == 403
