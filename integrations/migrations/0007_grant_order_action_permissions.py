"""Managers (and Admins) may act on Shopify orders from a ticket; Agents may not by default
(docs/permissions.md). Idempotent."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Admin": ["edit_orders", "refund_orders"],
    "Manager": ["edit_orders", "refund_orders"],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("integrations")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="integrations", codename__in=codenames
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0006_order_actions"),
        ("accounts", "0002_seed_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
