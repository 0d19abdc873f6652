"""One security policy row per role, 2FA not required (an Admin turns it on per role)."""

from django.db import migrations

ROLES = ["Admin", "Manager", "Agent", "Viewer"]


def seed(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Policy = apps.get_model("accounts", "RoleSecurityPolicy")
    for name in ROLES:
        group, _ = Group.objects.get_or_create(name=name)
        Policy.objects.get_or_create(group=group)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_security_models")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
