"""Admins hold every permission of the Printdesk apps (accounts 0002): grant them automation's
(rules, SLA policies, calendars, webhooks in admin). Idempotent."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    app_config = apps.get_app_config("automation")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin, _ = Group.objects.get_or_create(name="Admin")
    admin.permissions.add(*Permission.objects.filter(content_type__app_label="automation"))


class Migration(migrations.Migration):
    dependencies = [("automation", "0001_initial"), ("accounts", "0002_seed_roles")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
