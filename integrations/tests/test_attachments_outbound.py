"""Staff send files on every channel: the fakes receive the bytes (SendGrid base64, Meta upload)
or fetch our time-limited public link (Twilio MMS/WhatsApp), with the providers' limits."""

import hashlib

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile

from integrations.tests.channels import customer_writes
from tickets import services
from tickets.attachments import public_link_url
from tickets.models import Attachment, DeliveryStatus, TicketStatus
from tickets.tests.factories import AttachmentFactory, TicketFactory, image_bytes, pdf_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ticket_from(fake, channel: str, sender: str):
    ticket = TicketFactory(channel=channel, status=TicketStatus.OPEN)
    customer_writes(fake, ticket=ticket, channel=channel, sender=sender)
    return ticket


def reply(ticket, agent, *, files=(), forward=(), body="Your proof", channel=None):
    message = services.reply_to_ticket(
        ticket=ticket,
        author=agent,
        body=body,
        channel=channel,
        uploads=list(files),
        forward_attachment_ids=list(forward),
    )
    message.refresh_from_db()
    return message


def test_email_reply_carries_the_pdf_bytes(fake, agent):
    pdf = pdf_bytes()
    ticket = ticket_from(fake, "email", "jane@example.com")
    message = reply(ticket, agent, files=[SimpleUploadedFile("proof.pdf", pdf, "application/pdf")])
    assert message.delivery_status == DeliveryStatus.SENT
    [sent] = fake.sent
    [file] = sent["files"]
    assert (file["filename"], file["content_type"], file["disposition"]) == (
        "proof.pdf",
        "application/pdf",
        "attachment",
    )
    assert file["sha256"] == sha(pdf)
    assert message.attachments.get().sha256 == sha(pdf)


def test_whatsapp_reply_is_fetched_by_twilio_from_our_public_link(fake, agent, live_server):
    pdf = pdf_bytes()
    ticket = ticket_from(fake, "whatsapp", "+447700900123")
    message = reply(ticket, agent, files=[SimpleUploadedFile("proof.pdf", pdf)])
    assert message.delivery_status == DeliveryStatus.SENT
    [sent] = fake.sent
    assert sent["request"]["To"] == "whatsapp:+447700900123"
    [file] = sent["files"]
    assert file["url"].startswith(f"{live_server.url}/files/public/")
    assert (file["content_type"], file["sha256"]) == ("application/pdf", sha(pdf))


def test_customer_file_is_forwarded_back_on_whatsapp(fake, agent):
    ticket = ticket_from(fake, "whatsapp", "+447700900123")
    jpeg = image_bytes()
    theirs = AttachmentFactory(message=ticket.messages.get(), data=jpeg)
    message = reply(ticket, agent, forward=[theirs.pk], body="Is this the one?")
    assert fake.sent[-1]["files"][0]["sha256"] == sha(jpeg)
    assert message.attachments.get().storage_key == theirs.storage_key


def test_sms_to_a_number_without_mms_gets_a_link(fake, agent):
    pdf = pdf_bytes()
    ticket = ticket_from(fake, "sms", "+447700900555")
    message = reply(ticket, agent, files=[SimpleUploadedFile("proof.pdf", pdf)])
    assert message.delivery_status == DeliveryStatus.SENT
    [sent] = fake.sent
    assert sent["files"] == [] and "MediaUrl" not in sent["request"]
    link = sent["request"]["Body"].split("proof.pdf: ", 1)[1].strip()
    response = requests.get(link, timeout=10)
    assert response.status_code == 200 and sha(response.content) == sha(pdf)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_mms_number_gets_media(fake, agent):
    jpeg = image_bytes()
    ticket = ticket_from(fake, "sms", "+15551230001")
    reply(ticket, agent, files=[SimpleUploadedFile("banner.jpg", jpeg)])
    assert fake.sent[-1]["files"][0]["sha256"] == sha(jpeg)
    assert fake.sent[-1]["id"].startswith("MM")


def test_messenger_reply_uploads_the_file(fake, agent):
    jpeg = image_bytes()
    ticket = ticket_from(fake, "facebook", "4242")
    message = reply(ticket, agent, files=[SimpleUploadedFile("mockup.jpg", jpeg)])
    text, upload = fake.sent
    assert text["request"]["message"] == {
        "text": "Your proof",
        "metadata": f"printdesk:{message.pk}",  # how its echo is told from Meta-inbox replies
    }
    assert upload["request"]["message"]["attachment"]["type"] == "image"
    assert upload["files"][0]["sha256"] == sha(jpeg)
    assert message.provider_message_id == text["id"]


def test_public_link_refuses_tampering_and_expiry(fake, agent, settings, live_server):
    ticket = ticket_from(fake, "whatsapp", "+447700900123")
    reply(ticket, agent, files=[SimpleUploadedFile("proof.pdf", pdf_bytes())])
    url = fake.sent[-1]["files"][0]["url"]
    assert (
        requests.get(url.replace("/files/public/", "/files/public/x"), timeout=10).status_code
        == 404
    )
    settings.PUBLIC_MEDIA_URL_MAX_AGE_SECONDS = -1
    expired = public_link_url(Attachment.objects.get())
    assert requests.get(expired, timeout=10).status_code == 404
