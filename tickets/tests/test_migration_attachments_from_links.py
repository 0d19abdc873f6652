"""Migration tickets 0006: the old `TicketMessage.attachments` JSON lists (as the webhook handlers
wrote them before issue 19) become `Attachment` rows.

Migrated back to 0004 (before the table) with MigrationExecutor, old-shaped rows are inserted
through the historical models, then the migration runs forward and the rows are checked; at the
end the database is migrated to the latest state again for the tests after this one.
"""

import importlib
from datetime import UTC, datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import UserFactory
from tickets.models import Attachment

pytestmark = pytest.mark.django_db(transaction=True)

# Before the Attachment table existed: in 0005's state the JSON field and the new reverse
# relation share the name `attachments`, so old rows can only be written as they were, before it.
BEFORE = [("tickets", "0004_grant_admin_new_ticket_permissions")]
AFTER = [("tickets", "0006_attachments_from_links")]
RECEIVED_AT = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)

# What the handlers stored before issue 19 (git history of integrations/*/handlers.py and
# integrations/sendgrid/views.py): Inbound Parse files saved under /media/ with their name,
# type and size; Twilio and Meta only as the provider's links.
SENDGRID = [
    {
        "url": "/media/inbound/email/3f2a/attachment1-logo%20final.pdf",
        "name": "logo final.pdf",
        "content_type": "application/pdf",
        "size": 14,
    },
    {"url": "/media/inbound/email/3f2a/attachment2-sign.jpg", "content_type": "image/jpeg"},
]
TWILIO = [
    {
        "url": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
        "content_type": "image/jpeg",
    }
]
META = [
    {
        "url": "https://scontent.xx.fbcdn.net/v/t1.15752-9/photo.jpg?oh=1&oe=2",
        "content_type": "image/jpeg",
        "kind": "image",
    },
    "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=9",
    {"url": "javascript:alert(1)", "name": "odd.png"},
]


@pytest.fixture
def executor():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    yield executor
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def old_message(apps, *, provider: str, channel: str, attachments, n: int):
    Customer = apps.get_model("tickets", "Customer")
    Ticket = apps.get_model("tickets", "Ticket")
    TicketMessage = apps.get_model("tickets", "TicketMessage")
    ticket = Ticket.objects.create(
        reference=f"PD-MIG-{n}",
        subject="Artwork",
        channel=channel,
        customer=Customer.objects.create(name=f"Customer {n}"),
    )
    message = TicketMessage.objects.create(
        ticket=ticket,
        direction="in",
        channel=channel,
        body="(attachments)",
        provider=provider,
        attachments=attachments,
    )
    TicketMessage.objects.filter(pk=message.pk).update(created_at=RECEIVED_AT)
    return message


def test_old_json_links_become_attachment_rows_that_serve_and_retry(executor):
    old = executor.loader.project_state(BEFORE).apps
    email = old_message(old, provider="sendgrid", channel="email", attachments=SENDGRID, n=1)
    mms = old_message(old, provider="twilio", channel="sms", attachments=TWILIO, n=2)
    messenger = old_message(old, provider="meta", channel="facebook", attachments=META, n=3)
    plain = old_message(old, provider="twilio", channel="sms", attachments=[], n=4)
    default_storage.save(
        "inbound/email/3f2a/attachment1-logo final.pdf", ContentFile(b"%PDF-1.4 logo")
    )

    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Migrated = new.get_model("tickets", "Attachment")

    def rows(message):
        return list(
            Migrated.objects.filter(message_id=message.pk)
            .order_by("pk")
            .values(
                "ticket_id",
                "filename",
                "declared_type",
                "state",
                "storage_key",
                "size",
                "source_url",
                "provider",
                "created_at",
                "stored_at",
            )
        )

    [logo, sign] = rows(email)
    assert logo == {
        "ticket_id": email.ticket_id,
        "filename": "logo final.pdf",
        "declared_type": "application/pdf",
        "state": "stored",
        "storage_key": "inbound/email/3f2a/attachment1-logo final.pdf",
        "size": 14,
        "source_url": "",
        "provider": "sendgrid",
        "created_at": RECEIVED_AT,
        "stored_at": RECEIVED_AT,
    }
    assert (sign["filename"], sign["state"], sign["size"]) == (
        "attachment2-sign.jpg",
        "stored",
        None,
    )

    [twilio] = rows(mms)
    assert (twilio["state"], twilio["source_url"], twilio["storage_key"]) == (
        "failed",
        TWILIO[0]["url"],
        "",
    )
    assert (twilio["filename"], twilio["declared_type"], twilio["created_at"]) == (
        "ME1",
        "image/jpeg",
        RECEIVED_AT,
    )

    photo, bare, odd = rows(messenger)
    assert (photo["state"], photo["source_url"]) == ("failed", META[0]["url"])
    assert photo["filename"] == "photo.jpg?oh=1&oe=2"
    assert (bare["source_url"], bare["declared_type"]) == (META[1], "")
    # Not a web link: nothing to retry from, and never kept as a link.
    assert (odd["state"], odd["source_url"], odd["filename"]) == ("failed", "", "odd.png")
    assert rows(plain) == []
    assert Migrated.objects.count() == 6
    assert set(Migrated.objects.filter(state="failed").values_list("error", flat=True)) == {
        "Stored as a link before files were downloaded; retry to fetch it."
    }

    # Idempotent: running it again (a re-run after a partial failure) adds nothing.
    module = importlib.import_module("tickets.migrations.0006_attachments_from_links")
    module.forwards(new, None)
    assert Migrated.objects.count() == 6

    # On to the latest schema: the migrated file downloads, the migrated link can be retried.
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    stored = Attachment.objects.get(message_id=email.pk, filename="logo final.pdf")
    failed = Attachment.objects.get(message_id=mms.pk)
    client = APIClient()
    client.force_authenticate(UserFactory(role=Role.AGENT))
    response = client.get(f"/attachments/{stored.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 logo"
    # Migrated rows were never sniffed: served as a download, never inline.
    assert response["Content-Disposition"].startswith("attachment;")
    listed = client.get(f"/api/tickets/{failed.ticket.reference}/messages/").json()
    assert listed[0]["attachments"][0]["state"] == "failed"
