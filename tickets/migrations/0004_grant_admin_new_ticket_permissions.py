"""Admins hold every permission of the Printdesk apps (accounts 0002): grant them the permissions
of the models added since (ticket views). Idempotent."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    app_config = apps.get_app_config("tickets")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin, _ = Group.objects.get_or_create(name="Admin")
    admin.permissions.add(*Permission.objects.filter(content_type__app_label="tickets"))


class Migration(migrations.Migration):
    dependencies = [("tickets", "0003_grant_saved_reply_permissions")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
