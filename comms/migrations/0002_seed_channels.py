"""The shop's standing team channels. Idempotent: existing channels are left as they are."""

from django.db import migrations

SEED_CHANNELS = [
    ("General", "general", "public", "Everything and anything"),
    ("Managers", "managers", "private", "Managers only"),
    ("Graphic Design", "graphic-design", "public", "Artwork, proofs and prepress"),
    ("Sales", "sales", "public", "Quotes, orders and customers"),
    ("Production", "production", "public", "The print floor: jobs, machines, shipping"),
]


def seed_channels(apps, schema_editor):
    Channel = apps.get_model("comms", "Channel")
    for name, slug, kind, topic in SEED_CHANNELS:
        Channel.objects.get_or_create(
            slug=slug, defaults={"name": name, "kind": kind, "topic": topic}
        )


class Migration(migrations.Migration):
    dependencies = [("comms", "0001_initial")]

    operations = [migrations.RunPython(seed_channels, migrations.RunPython.noop)]
