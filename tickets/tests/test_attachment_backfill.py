"""The backfill of files migrated from the old link list (issue 19): rows of migration 0006 point
at stored bytes without sha256, sniffed type, size or thumbnail; `manage.py backfill_attachments`
(or its bulk-queue task) records them from the bytes and queues the thumbnail as an upload does."""

import hashlib
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import UserFactory
from tickets import attachment_backfill
from tickets.attachment_backfill import (
    MISSING_FILE_ERROR,
    backfill_attachment_batch,
    backfill_attachments,
)
from tickets.attachments import forward_attachments
from tickets.models import Attachment, AttachmentState
from tickets.tests.factories import TicketMessageFactory, image_bytes, pdf_bytes

pytestmark = pytest.mark.django_db


def migrated(message, *, name: str, data: bytes | None, declared: str = "") -> Attachment:
    """A row as migration 0006 wrote it from an old `/media/` link: stored, no digest."""
    key = f"inbound/email/3f2a/{name}"
    if data is not None:
        key = default_storage.save(key, ContentFile(data))
    return Attachment.objects.create(
        ticket_id=message.ticket_id,
        message=message,
        filename=name,
        declared_type=declared,
        provider="sendgrid",
        state=AttachmentState.STORED,
        storage_key=key,
        stored_at=message.created_at,
    )


def run(*args) -> str:
    out = StringIO()
    call_command("backfill_attachments", *args, stdout=out)
    return out.getvalue()


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def message():
    return TicketMessageFactory()


@pytest.fixture
def staff_api():
    client = APIClient()
    client.force_authenticate(UserFactory(role=Role.AGENT))
    return client


def test_a_migrated_image_opens_inline_with_a_preview_after_the_backfill(
    message, staff_api, client, django_capture_on_commit_callbacks
):
    png = image_bytes("PNG", (800, 600))
    row = migrated(message, name="attachment1-sign.png", data=png, declared="image/png")
    before = staff_api.get(f"/attachments/{row.pk}/")
    assert before["Content-Disposition"].startswith("attachment")
    assert before["Content-Type"] == "application/octet-stream"

    with django_capture_on_commit_callbacks(execute=True):
        output = run()

    assert "Done: 1 examined, 1 digested, 1 previews queued, 0 missing." in output
    row.refresh_from_db()
    assert (row.sha256, row.content_type, row.size) == (
        hashlib.sha256(png).hexdigest(),
        "image/png",
        len(png),
    )
    # Like a new upload: inline, and a thumbnail on the timeline.
    after = staff_api.get(f"/attachments/{row.pk}/")
    assert after["Content-Disposition"].startswith('inline; filename="attachment1-sign.png"')
    assert after["Content-Type"] == "image/png" and body(after) == png
    assert row.preview_key
    preview = staff_api.get(f"/attachments/{row.pk}/preview/")
    assert preview.status_code == 200 and preview["Content-Type"] == "image/png"
    client.force_login(UserFactory(role=Role.AGENT))
    page = client.get(f"/tickets/{message.ticket.reference}/").content.decode()
    assert f'src="/attachments/{row.pk}/preview/"' in page
    listed = staff_api.get(f"/api/tickets/{message.ticket.reference}/messages/").json()
    files = [f for m in listed for f in m["attachments"]]
    assert [(f["content_type"], f["size"], f["sha256"]) for f in files] == [
        ("image/png", len(png), hashlib.sha256(png).hexdigest())
    ]


def test_the_type_comes_from_the_bytes_not_the_old_link(message, staff_api):
    html = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
    pdf = pdf_bytes()
    fake = migrated(message, name="logo.pdf", data=html, declared="application/pdf")
    real = migrated(message, name="proof", data=pdf)
    backfill_attachments()
    fake.refresh_from_db()
    real.refresh_from_db()
    assert (fake.content_type, real.content_type) == ("text/html", "application/pdf")
    served = staff_api.get(f"/attachments/{fake.pk}/")
    assert served["Content-Disposition"].startswith("attachment")
    assert served["Content-Type"] == "application/octet-stream"


def test_running_it_twice_changes_nothing_more(message, django_capture_on_commit_callbacks):
    migrated(message, name="a.png", data=image_bytes("PNG"))
    migrated(message, name="notes.txt", data=b"hello", declared="text/plain")
    with django_capture_on_commit_callbacks(execute=True):
        first = run()
    assert "Done: 2 examined, 2 digested, 1 previews queued, 0 missing." in first
    snapshot = list(Attachment.objects.values())
    with django_capture_on_commit_callbacks(execute=True):
        second = run()
    assert "Done: 0 examined, 0 digested, 0 previews queued, 0 missing." in second
    assert list(Attachment.objects.values()) == snapshot


def test_a_file_whose_bytes_are_gone_is_marked_unavailable_once(message):
    gone = migrated(message, name="lost.jpg", data=None)
    assert "1 missing" in run()
    gone.refresh_from_db()
    assert (gone.state, gone.error) == (AttachmentState.FAILED, MISSING_FILE_ERROR)
    assert "0 examined" in run()


def test_batches_resume_after_the_last_one_and_shared_bytes_are_read_once(
    message, monkeypatch, django_capture_on_commit_callbacks
):
    rows = [migrated(message, name=f"{n}.png", data=image_bytes("PNG")) for n in range(4)]
    # A forward of a migrated file shares its bytes (and its missing digest).
    forwarded = forward_attachments(
        ticket=message.ticket, attachments=[rows[0]], uploaded_by=None, message=message
    )[0]
    reads = []
    real_digest = attachment_backfill.digest_stored_file
    monkeypatch.setattr(
        attachment_backfill,
        "digest_stored_file",
        lambda **kwargs: reads.append(kwargs["storage_key"]) or real_digest(**kwargs),
    )
    # The first batch, then the run "stops".
    first = backfill_attachment_batch(batch_size=2)
    assert (first.examined, first.digested, first.last_pk) == (2, 2, rows[1].pk)
    assert Attachment.objects.filter(sha256="").count() == 3
    # Resumed after the last row it reported, in batches of 2.
    batches = []
    with django_capture_on_commit_callbacks(execute=True):
        rest = backfill_attachments(after_pk=first.last_pk, batch_size=2, on_batch=batches.append)
    assert [b.examined for b in batches] == [2, 1]
    assert rest.digested == 3 and rest.last_pk == forwarded.pk
    assert not Attachment.objects.filter(sha256="").exists()
    assert reads == [r.storage_key for r in rows]  # the forward's shared key is not read again
    forwarded.refresh_from_db()
    rows[0].refresh_from_db()
    assert forwarded.sha256 == rows[0].sha256 and forwarded.preview_key


def test_the_bulk_queue_task_runs_every_batch(message):
    rows = [migrated(message, name=f"{n}.png", data=image_bytes("PNG")) for n in range(3)]
    assert "queued" in run("--queue", "--batch-size", "2")
    # The immediate backend of the tests ran the task and the batch it queued after itself.
    assert all(Attachment.objects.get(pk=r.pk).content_type == "image/png" for r in rows)


def test_a_stored_image_that_only_lacks_its_thumbnail_gets_one(
    message, django_capture_on_commit_callbacks
):
    jpeg = image_bytes("JPEG")
    row = migrated(message, name="photo.jpg", data=jpeg)
    Attachment.objects.filter(pk=row.pk).update(
        sha256=hashlib.sha256(jpeg).hexdigest(), content_type="image/jpeg", size=len(jpeg)
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = backfill_attachments()
    assert (report.digested, report.previews_queued) == (0, 1)
    row.refresh_from_db()
    assert row.preview_key
