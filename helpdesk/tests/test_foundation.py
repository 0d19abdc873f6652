import importlib

import pytest
from django.apps import apps as global_apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import OperationalError
from django.urls import reverse

from accounts.models import Role
from accounts.tests.factories import UserFactory
from comms.models import Channel
from integrations.tests.factories import WebhookEventFactory
from tickets.models import IdentityKind, Ticket, TicketMessage
from tickets.tests.factories import (
    CustomerIdentityFactory,
    OutboundMessageFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

seed_roles_migration = importlib.import_module("accounts.migrations.0002_seed_roles")


def role_permissions() -> dict[str, set[str]]:
    return {
        group.name: {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        for group in Group.objects.all()
    }


def test_roles_exist_with_their_custom_permissions():
    perms = role_permissions()
    assert set(perms) == {r.value for r in Role}
    assert {"tickets.reply_ticket", "tickets.assign_ticket", "tickets.escalate_ticket"} <= perms[
        "Manager"
    ]
    assert {"comms.manage_channels", "accounts.manage_staff", "analytics.view_reports"} <= perms[
        "Admin"
    ]
    assert "tickets.reply_ticket" in perms["Agent"]
    assert "tickets.assign_ticket" not in perms["Agent"]
    assert perms["Viewer"] == {"tickets.view_ticket", "tickets.view_customer", "comms.view_channel"}


def test_seeding_roles_twice_changes_nothing():
    before = role_permissions()
    permission_count = Permission.objects.count()
    # Historical models, as the migration sees them: passing the global registry would let the
    # migration's helper mutate the real app configs.
    state_apps = (
        MigrationExecutor(connection).loader.project_state(("accounts", "0002_seed_roles")).apps
    )
    seed_roles_migration.seed_roles(state_apps, None)
    assert role_permissions() == before
    assert Permission.objects.count() == permission_count


def test_seed_channels_exist():
    assert set(Channel.objects.values_list("slug", flat=True)) >= {
        "general",
        "managers",
        "graphic-design",
        "sales",
        "production",
    }
    assert Channel.objects.get(slug="managers").kind == "private"


def test_seed_demo_twice_creates_no_duplicates():
    call_command("seed_demo", customers=5, tickets=12, stdout=None)
    counts = {model: model.objects.count() for model in global_apps.get_models()}
    call_command("seed_demo", customers=5, tickets=12)
    assert {model: model.objects.count() for model in global_apps.get_models()} == counts
    assert Ticket.objects.count() == 12
    assert not Ticket.objects.filter(reference__isnull=True).exists()


def test_every_admin_changelist_renders_for_a_superuser(client):
    call_command("seed_demo", customers=5, tickets=12)
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(superuser)
    for model in admin.site._registry:
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url
        obj = model.objects.first()
        if obj is not None:
            change_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert client.get(change_url).status_code == 200, change_url


def test_healthz_reports_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_unreachable_database(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503


def test_anonymous_user_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_login_page_and_dashboard(client):
    assert client.get(reverse("accounts:login")).status_code == 200
    user = UserFactory(role=Role.AGENT)
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    assert b"My open tickets" in response.content


def test_identity_is_unique_per_kind():
    CustomerIdentityFactory(kind=IdentityKind.EMAIL, value="a@example.com")
    CustomerIdentityFactory(kind=IdentityKind.PHONE, value="a@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerIdentityFactory(kind=IdentityKind.EMAIL, value="a@example.com")


def test_ticket_reference_is_unique():
    ticket = TicketFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketFactory(reference=ticket.reference)


def test_provider_message_id_is_unique_per_provider():
    ticket = TicketFactory()
    OutboundMessageFactory(ticket=ticket, provider="twilio", provider_message_id="SM1")
    OutboundMessageFactory(ticket=ticket, provider="meta", provider_message_id="SM1")
    OutboundMessageFactory(ticket=ticket, provider="twilio", provider_message_id=None)
    OutboundMessageFactory(ticket=ticket, provider="twilio", provider_message_id=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboundMessageFactory(ticket=ticket, provider="twilio", provider_message_id="SM1")
    assert TicketMessage.objects.count() == 4


def test_webhook_event_id_is_unique_per_provider():
    WebhookEventFactory(provider="shopify", event_id="abc")
    WebhookEventFactory(provider="meta", event_id="abc")
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookEventFactory(provider="shopify", event_id="abc")


def test_customer_with_tickets_cannot_be_deleted():
    from django.db.models import ProtectedError

    ticket = TicketFactory()
    with pytest.raises(ProtectedError):
        ticket.customer.delete()


@pytest.mark.postgres
def test_migrations_applied_on_postgresql():
    assert connection.vendor == "postgresql"
    call_command("migrate", "--check", verbosity=0)
    assert Group.objects.filter(name="Admin").exists()
