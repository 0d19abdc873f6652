"""WebhookEvent.raw_body holds bytes (exactly as received), large bodies a file (issue 21)."""

from django.db import migrations, models

BATCH = 500


def copy_text_to_bytes(apps, schema_editor):
    WebhookEvent = apps.get_model("integrations", "WebhookEvent")
    events = WebhookEvent.objects.exclude(raw_body="").only("pk", "raw_body")
    batch = []
    for event in events.iterator(chunk_size=BATCH):
        event.raw_bytes = event.raw_body.encode("utf-8", "surrogatepass")
        batch.append(event)
        if len(batch) == BATCH:
            WebhookEvent.objects.bulk_update(batch, ["raw_bytes"])
            batch = []
    WebhookEvent.objects.bulk_update(batch, ["raw_bytes"])


def copy_bytes_to_text(apps, schema_editor):
    WebhookEvent = apps.get_model("integrations", "WebhookEvent")
    for event in WebhookEvent.objects.only("pk", "raw_bytes").iterator(chunk_size=BATCH):
        event.raw_body = bytes(event.raw_bytes).decode("utf-8", "replace").replace("\x00", "")
        event.save(update_fields=["raw_body"])


class Migration(migrations.Migration):
    dependencies = [("integrations", "0002_shopifysynclog_checkpoint")]

    operations = [
        migrations.AddField(
            model_name="webhookevent",
            name="raw_bytes",
            field=models.BinaryField(blank=True, default=b""),
        ),
        migrations.RunPython(copy_text_to_bytes, copy_bytes_to_text),
        migrations.RemoveField(model_name="webhookevent", name="raw_body"),
        migrations.RenameField(
            model_name="webhookevent", old_name="raw_bytes", new_name="raw_body"
        ),
        migrations.AddField(
            model_name="webhookevent",
            name="raw_file",
            field=models.FileField(blank=True, max_length=255, upload_to="webhooks/raw/%Y/%m/%d/"),
        ),
    ]
