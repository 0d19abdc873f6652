"""Keeping the Admin role complete: "Admin = everything" (docs/permissions.md).

The other roles get exactly what the data migrations grant them. The Admin role gets every
permission of Printdesk's own apps, including those of models added later, so after each
`migrate` the permissions of new models are granted to it here instead of in one data
migration per model.
"""

from pathlib import Path

from django.apps import AppConfig
from django.conf import settings
from django.contrib.auth.models import Group, Permission

from accounts.models import Role


def is_printdesk_app(app_config: AppConfig) -> bool:
    return Path(app_config.path).resolve().is_relative_to(Path(settings.BASE_DIR).resolve()) and (
        ".venv" not in Path(app_config.path).parts
    )


def grant_admin_every_printdesk_permission(*, app_labels: list[str]) -> int:
    """Add any missing permission of `app_labels` to the Admin role; returns how many."""
    admin = Group.objects.filter(name=Role.ADMIN).first()
    if admin is None:
        return 0
    missing = Permission.objects.filter(content_type__app_label__in=app_labels).exclude(group=admin)
    missing = list(missing)
    admin.permissions.add(*missing)
    return len(missing)
