"""`automation.manage_automation`: the staff pages for rules, SLA policies, calendars and
webhooks (issue 23), granted to Admins and Managers (docs/permissions.md), and a readable message
for working hours that end before they start. Idempotent."""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models


def grant(apps, schema_editor):
    app_config = apps.get_app_config("automation")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(
        content_type__app_label="automation", codename="manage_automation"
    )
    for role in ("Admin", "Manager"):
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [("automation", "0005_web_channel"), ("accounts", "0002_seed_roles")]

    operations = [
        migrations.AlterModelOptions(
            name="rule",
            options={
                "ordering": ["event", "position", "pk"],
                "permissions": [
                    (
                        "manage_automation",
                        "Can manage rules, SLA policies, calendars and webhooks on the staff pages",
                    )
                ],
            },
        ),
        migrations.AlterConstraint(
            model_name="workinghours",
            name="hours_end_after",
            constraint=models.CheckConstraint(
                condition=models.Q(("end__gt", models.F("start"))),
                name="hours_end_after",
                violation_error_message="The end of working hours must be after the start.",
            ),
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
