"""Grant the API token permissions. Idempotent (same pattern as 0002_seed_roles).

Admins, Managers and Agents may create personal API tokens (a token carries its owner's
permissions, no more). Viewers may not: a read-only role gets no long-lived machine credential
(they can still use short-lived JWTs). Admin holds every accounts permission, so it also gets the
rest of the token permissions.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

TOKEN_PERMISSIONS = ["add_apitoken", "view_apitoken", "change_apitoken", "delete_apitoken"]
ROLES = {
    "Admin": TOKEN_PERMISSIONS,
    "Manager": ["add_apitoken"],
    "Agent": ["add_apitoken"],
}


def grant(apps, schema_editor):
    accounts = apps.get_app_config("accounts")
    accounts.models_module = True
    create_permissions(accounts, apps=apps, verbosity=0)
    accounts.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_api_token"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
