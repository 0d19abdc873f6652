"""Let Admins and Managers manage saved replies; everyone who replies may read them. Idempotent."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Admin": ["add_savedreply", "change_savedreply", "delete_savedreply", "view_savedreply"],
    "Manager": ["add_savedreply", "change_savedreply", "delete_savedreply", "view_savedreply"],
    "Agent": ["view_savedreply"],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("tickets")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="tickets", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0002_saved_replies_and_views"),
        ("accounts", "0002_seed_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
