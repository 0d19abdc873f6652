"""A default business calendar (Mon-Fri 09:00-17:30) and one SLA policy per priority.

Targets are business minutes (a business day is 510): admins tune them in admin. Idempotent.
"""

import datetime

from django.conf import settings
from django.db import migrations

POLICIES = [
    # priority, first response, next response, resolution
    ("urgent", 30, 60, 240),
    ("high", 60, 120, 510),
    ("normal", 240, 480, 3 * 510),
    ("low", 480, 960, 5 * 510),
]


def seed(apps, schema_editor):
    BusinessCalendar = apps.get_model("automation", "BusinessCalendar")
    WorkingHours = apps.get_model("automation", "WorkingHours")
    SlaPolicy = apps.get_model("automation", "SlaPolicy")
    calendar, created = BusinessCalendar.objects.get_or_create(
        name="Office hours", defaults={"timezone": settings.TIME_ZONE, "is_default": True}
    )
    if created:
        for weekday in range(5):
            WorkingHours.objects.create(
                calendar=calendar,
                weekday=weekday,
                start=datetime.time(9, 0),
                end=datetime.time(17, 30),
            )
    for priority, first, following, resolution in POLICIES:
        SlaPolicy.objects.get_or_create(
            priority=priority,
            channel="",
            defaults={
                "name": f"{priority.capitalize()} priority",
                "calendar": calendar,
                "first_response_minutes": first,
                "next_response_minutes": following,
                "resolution_minutes": resolution,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("automation", "0002_grant_admin_permissions")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
