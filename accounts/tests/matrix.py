"""The permission-matrix world and row collection (see test_permission_matrix.py).

Every app may add `<app>/tests/permission_matrix.py` with a module-level `ROWS` list of dicts:
`{"method", "path", "expect": {role: status}, "data": dict | None, "api": bool}`. Placeholders in
paths and data are filled from the world: {ticket} (reference of an unassigned open ticket),
{customer} (id), {channel} (slug `general`), {user} (id of an Agent), {message} (id of an
outbound message on {ticket}), {admin} (id of a second Admin, whom Managers may not edit),
{attachment} (id of a failed download on {ticket}: the provider link is kept, no bytes).
"""

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps as django_apps
from django.conf import settings

from accounts.models import Role, User
from accounts.tests.factories import UserFactory
from comms.models import Channel
from tickets.models import AttachmentState, TicketStatus
from tickets.tests.factories import AttachmentFactory, OutboundMessageFactory, TicketFactory

ROLES = [Role.ADMIN.value, Role.MANAGER.value, Role.AGENT.value, Role.VIEWER.value]
ANONYMOUS = "anonymous"
REQUIRED_KEYS = {"method", "path", "expect"}


@dataclass
class MatrixWorld:
    users: dict[str, User | None]
    placeholders: dict[str, str]

    def fill(self, value: Any) -> Any:
        """Placeholders filled in a string, or recursively in a dict/list of strings."""
        if isinstance(value, str):
            try:
                return value.format(**self.placeholders)
            except KeyError as exc:
                known = ", ".join(sorted(self.placeholders))
                raise KeyError(f"unknown placeholder {exc} in {value!r}; known: {known}") from exc
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        return value


def build_world() -> MatrixWorld:
    users: dict[str, User | None] = {
        role: UserFactory(username=f"matrix-{role.lower()}", role=role) for role in ROLES
    }
    users[ANONYMOUS] = None
    other_admin = UserFactory(username="matrix-admin-2", role=Role.ADMIN)
    ticket = TicketFactory(status=TicketStatus.OPEN)
    message = OutboundMessageFactory(ticket=ticket, author=users[Role.AGENT])
    attachment = AttachmentFactory(
        message=message,
        state=AttachmentState.FAILED,
        storage_key="",
        provider="twilio",
        source_url="https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
    )
    channel = Channel.objects.get_or_create(slug="general", defaults={"name": "General"})[0]
    return MatrixWorld(
        users=users,
        placeholders={
            "ticket": ticket.reference,
            "customer": str(ticket.customer_id),
            "channel": channel.slug,
            "user": str(users[Role.AGENT].pk),
            "message": str(message.pk),
            "admin": str(other_admin.pk),
            "attachment": str(attachment.pk),
        },
    )


def project_apps() -> list[str]:
    """Our own apps (those living in the repository), in INSTALLED_APPS order."""
    # App configs, not INSTALLED_APPS entries: an entry may name an AppConfig class.
    return [
        config.name
        for config in django_apps.get_app_configs()
        if Path(config.path).parent == settings.BASE_DIR
    ]


def collect_rows() -> list[dict[str, Any]]:
    """Every app's ROWS, each tagged with its app, checked for shape."""
    rows = []
    for app in project_apps():
        module_name = f"{app}.tests.permission_matrix"
        if importlib.util.find_spec(f"{app}.tests") is None:
            continue
        if importlib.util.find_spec(module_name) is None:
            continue
        for row in importlib.import_module(module_name).ROWS:
            missing = REQUIRED_KEYS - set(row)
            if missing:
                raise ValueError(f"{module_name}: row {row!r} lacks {sorted(missing)}")
            rows.append({"data": None, "api": False, **row, "app": app})
    return rows
