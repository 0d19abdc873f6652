"""Grant the product-note model permissions to Admin, who holds every Printdesk permission.

Idempotent (same pattern as accounts/0002_seed_roles). Staff notes themselves are written on
/knowledge/ by anyone who may reply to tickets; these permissions only cover Django admin.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    knowledge = apps.get_app_config("knowledge")
    knowledge.models_module = True
    create_permissions(knowledge, apps=apps, verbosity=0)
    knowledge.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    admin, _ = Group.objects.get_or_create(name="Admin")
    admin.permissions.add(*Permission.objects.filter(content_type__app_label="knowledge"))


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0003_search_indexes"),
        ("accounts", "0002_seed_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
