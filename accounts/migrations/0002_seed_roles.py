"""Create the four roles as auth Groups with their permissions. Idempotent.

The matrix is documented in docs/permissions.md; later migrations that add permissions also
grant them here by the same pattern.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MANAGER = [
    "tickets.view_ticket",
    "tickets.add_ticket",
    "tickets.change_ticket",
    "tickets.view_customer",
    "tickets.add_customer",
    "tickets.change_customer",
    "tickets.reply_ticket",
    "tickets.note_ticket",
    "tickets.assign_ticket",
    "tickets.take_ticket",
    "tickets.escalate_ticket",
    "tickets.handoff_ticket",
    "tickets.merge_ticket",
    "tickets.export_customers",
    "comms.view_channel",
    "comms.post_channel",
    "comms.manage_channels",
    "accounts.view_user",
    "accounts.manage_staff",
    "analytics.view_reports",
]
AGENT = [
    "tickets.view_ticket",
    "tickets.add_ticket",
    "tickets.change_ticket",
    "tickets.view_customer",
    "tickets.add_customer",
    "tickets.change_customer",
    "tickets.reply_ticket",
    "tickets.note_ticket",
    "tickets.take_ticket",
    "tickets.escalate_ticket",
    "tickets.handoff_ticket",
    "comms.view_channel",
    "comms.post_channel",
]
PRINTDESK_APPS = ["accounts", "tickets", "comms", "integrations", "knowledge", "analytics"]
VIEWER = [
    "tickets.view_ticket",
    "tickets.view_customer",
    "comms.view_channel",
]


def ensure_permissions(apps):
    """Permissions are normally created after migrate; the roles need them now."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def seed_roles(apps, schema_editor):
    ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def lookup(names):
        perms = []
        for name in names:
            app_label, codename = name.split(".")
            perms.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return perms

    admin, _ = Group.objects.get_or_create(name="Admin")
    admin.permissions.add(*Permission.objects.filter(content_type__app_label__in=PRINTDESK_APPS))
    for role, names in (("Manager", MANAGER), ("Agent", AGENT), ("Viewer", VIEWER)):
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*lookup(names))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("tickets", "0001_initial"),
        ("comms", "0001_initial"),
        ("analytics", "0001_initial"),
        ("integrations", "0001_initial"),
        ("knowledge", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed_roles, migrations.RunPython.noop)]
