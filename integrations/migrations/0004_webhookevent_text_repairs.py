from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("integrations", "0003_webhookevent_raw_bytes")]

    operations = [
        migrations.AddField(
            model_name="webhookevent",
            name="text_repairs",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Where NUL characters or lone surrogates were replaced to store the payload.",
            ),
        ),
    ]
