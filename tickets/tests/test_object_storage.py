"""Files in S3-compatible object storage (django-storages) against a local moto S3 server:
stored under private keys, served to staff by a redirect to a short-lived signed URL that keeps
the safe Content-Disposition and type."""

import hashlib
import socket

import boto3
import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from moto.server import ThreadedMotoServer

from accounts.models import Role
from accounts.tests.factories import UserFactory
from comms import services as chat
from comms.tests.factories import ChannelFactory, ChannelMemberFactory
from tickets import services
from tickets.models import TicketStatus
from tickets.tests.factories import TicketFactory, image_bytes

pytestmark = pytest.mark.django_db

BUCKET = "printdesk-files"
KEYS = {"access_key": "test-access", "secret_key": "test-secret"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3(settings):
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
    ).create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **settings.FILE_STORAGE_OPTIONS,
                "bucket_name": BUCKET,
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                **KEYS,
            },
        },
    }
    yield boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
    )
    server.stop()


def test_a_reply_file_lands_in_the_bucket_and_downloads_through_a_signed_url(s3, client):
    agent = UserFactory(role=Role.AGENT)
    ticket = TicketFactory(channel="email", status=TicketStatus.OPEN)
    png = image_bytes("PNG")
    message = services.reply_to_ticket(
        ticket=ticket,
        author=agent,
        body="Mock-up attached",
        channel="email",
        uploads=[SimpleUploadedFile("mockup.png", png)],
    )
    attachment = message.attachments.get()
    stored = s3.get_object(Bucket=BUCKET, Key=attachment.storage_key)["Body"].read()
    assert (
        hashlib.sha256(stored).hexdigest() == attachment.sha256 == hashlib.sha256(png).hexdigest()
    )

    assert client.get(f"/attachments/{attachment.pk}/").status_code in (401, 403)
    client.force_login(agent)
    response = client.get(f"/attachments/{attachment.pk}/")
    assert response.status_code == 302
    signed = response["Location"]
    assert "X-Amz-Signature=" in signed and "X-Amz-Expires=300" in signed
    assert requests.get(signed.split("?")[0], timeout=10).status_code == 403  # private bucket
    download = requests.get(signed, timeout=10)
    assert download.status_code == 200 and download.content == png
    assert download.headers["Content-Type"] == "image/png"
    assert download.headers["Content-Disposition"].startswith('inline; filename="mockup.png"')


def test_an_unsafe_type_downloads_from_the_bucket_as_an_attachment(s3, client):
    agent = UserFactory(role=Role.AGENT)
    ticket = TicketFactory(status=TicketStatus.OPEN)
    note = services.add_internal_note(
        ticket=ticket,
        author=agent,
        body="Their 'invoice'",
        uploads=[SimpleUploadedFile("invoice.pdf", b"<html><script>x()</script></html>")],
    )
    attachment = note.attachments.get()
    client.force_login(agent)
    signed = client.get(f"/attachments/{attachment.pk}/")["Location"]
    download = requests.get(signed, timeout=10)
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment;")


def test_a_chat_file_lands_in_the_bucket_and_only_channel_readers_get_the_signed_url(s3, client):
    """Team chat files share the ticket files' storage and serving (comms.attachments)."""
    member, outsider = UserFactory(role=Role.AGENT), UserFactory(role=Role.AGENT)
    channel = ChannelFactory(slug="design-s3", kind="private")
    ChannelMemberFactory(channel=channel, user=member)
    pdf = b"%PDF-1.4 proof"
    message = chat.post_message(
        channel=channel, author=member, body="", uploads=[SimpleUploadedFile("proof.pdf", pdf)]
    )
    file = message.attachments.get()
    assert s3.get_object(Bucket=BUCKET, Key=file.storage_key)["Body"].read() == pdf
    client.force_login(outsider)
    assert client.get(f"/chat/files/{file.pk}/").status_code == 404
    client.force_login(member)
    signed = client.get(f"/chat/files/{file.pk}/")["Location"]
    assert "X-Amz-Signature=" in signed
    download = requests.get(signed, timeout=10)
    assert download.content == pdf and download.headers["Content-Type"] == "application/pdf"
