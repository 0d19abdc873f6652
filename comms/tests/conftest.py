"""Transactional tests (sockets) start from a flushed database: put the migration seed back."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from comms.models import Channel


def _reseed() -> None:
    roles = importlib.import_module("accounts.migrations.0002_seed_roles")
    channels = importlib.import_module("comms.migrations.0002_seed_channels")
    # Another test's flush may have left the content type cache pointing at deleted rows, and
    # running the role seed against the global registry (as the foundation test does) leaves
    # `create_permissions` a no-op, so the permissions are written here directly.
    ContentType.objects.clear_cache()
    for model in apps.get_models():
        opts = model._meta
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
        codenames = [
            (f"{action}_{opts.model_name}", f"Can {action} {opts.verbose_name_raw}")
            for action in opts.default_permissions
        ] + list(opts.permissions)
        for codename, name in codenames:
            Permission.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": name[:255]}
            )
    admin, _ = Group.objects.get_or_create(name="Admin")
    admin.permissions.add(
        *Permission.objects.filter(content_type__app_label__in=roles.PRINTDESK_APPS)
    )
    for role, names in (
        ("Manager", roles.MANAGER),
        ("Agent", roles.AGENT),
        ("Viewer", roles.VIEWER),
    ):
        group, _ = Group.objects.get_or_create(name=role)
        for name in names:
            app_label, codename = name.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    for name, slug, kind, topic in channels.SEED_CHANNELS:
        Channel.objects.get_or_create(
            slug=slug, defaults={"name": name, "kind": kind, "topic": topic}
        )


@pytest.fixture(autouse=True)
def _seed_transactional_db(request):
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        _reseed()


@pytest.fixture
def anyio_backend():
    return "asyncio"
