"""Messages stored their files as a JSON list of links; each becomes an `Attachment` row.

Links to our own `/media/` files (Inbound Parse) point at stored bytes; provider links (Twilio,
Meta) were never downloaded and become `failed` rows with their source URL, so staff can retry
the download from the timeline. Idempotent: a message that already has rows is skipped.
"""

from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import migrations


def _row(message, item):
    if isinstance(item, str):
        item = {"url": item}
    url = str(item.get("url") or "")
    name = str(item.get("filename") or item.get("name") or url.rsplit("/", 1)[-1] or "attachment")
    media_prefix = "/" + settings.MEDIA_URL.strip("/") + "/"
    path = urlsplit(url).path
    common = {
        "ticket_id": message["ticket_id"],
        "message_id": message["pk"],
        "filename": name[:255],
        "declared_type": str(item.get("content_type") or "")[:127],
        "provider": message["provider"],
        "created_at": message["created_at"],
    }
    if path.startswith(media_prefix) and not url.startswith(("http://", "https://")):
        size = item.get("size")
        return {
            **common,
            "state": "stored",
            "storage_key": unquote(path[len(media_prefix) :])[:500],
            "size": size if isinstance(size, int) else None,
            "stored_at": message["created_at"],
        }
    return {
        **common,
        "state": "failed",
        "source_url": url[:2000] if url.startswith(("http://", "https://")) else "",
        "error": "Stored as a link before files were downloaded; retry to fetch it.",
    }


def forwards(apps, schema_editor):
    TicketMessage = apps.get_model("tickets", "TicketMessage")
    Attachment = apps.get_model("tickets", "Attachment")
    messages = (
        TicketMessage.objects.exclude(attachments=[])
        .filter(attachments__isnull=False)
        .values("pk", "ticket_id", "provider", "created_at", "attachments")
    )
    done = set(Attachment.objects.values_list("message_id", flat=True).distinct())
    for message in messages.iterator():
        if message["pk"] in done or not isinstance(message["attachments"], list):
            continue
        rows = [Attachment(**_row(message, item)) for item in message["attachments"]]
        created = Attachment.objects.bulk_create(rows)
        # auto_now_add set created_at to now; keep the message's time.
        Attachment.objects.filter(pk__in=[a.pk for a in created]).update(
            created_at=message["created_at"]
        )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0005_attachment")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
