from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tickets", "0006_attachments_from_links")]

    operations = [
        migrations.RemoveField(model_name="ticketmessage", name="attachments"),
    ]
