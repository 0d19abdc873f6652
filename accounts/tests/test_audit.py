import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from accounts import services
from accounts.audit import prune_audit_log, record_audit
from accounts.models import AuditLogEntry, Role, Team
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


@pytest.fixture
def admin():
    return UserFactory(username="ada", role=Role.ADMIN, is_superuser=True)


@pytest.fixture
def agent():
    return UserFactory(username="alex", role=Role.AGENT)


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def actions() -> list[str]:
    return list(AuditLogEntry.objects.order_by("id").values_list("action", flat=True))


def test_login_success_and_failure_with_ip_and_user_agent(client, agent):
    client.post(
        "/accounts/login/",
        {"username": "alex", "password": "nope"},
        HTTP_USER_AGENT=BROWSER,
        REMOTE_ADDR="203.0.113.9",
    )
    client.post(
        "/accounts/login/",
        {"username": "alex", "password": DEFAULT_PASSWORD},
        HTTP_USER_AGENT=BROWSER,
        REMOTE_ADDR="203.0.113.9",
    )
    failed = AuditLogEntry.objects.get(action="login.failed")
    assert failed.actor is None
    assert failed.details["username"] == "alex"
    assert failed.target_id == str(agent.pk)
    assert (failed.ip_address, failed.user_agent) == ("203.0.113.9", BROWSER)
    succeeded = AuditLogEntry.objects.get(action="login.succeeded")
    assert succeeded.actor == agent and succeeded.actor_repr == "alex"
    assert succeeded.ip_address == "203.0.113.9"


def test_failed_login_for_an_unknown_user_names_who_was_tried(client):
    client.post("/accounts/login/", {"username": "mallory", "password": "x"})
    entry = AuditLogEntry.objects.get(action="login.failed")
    assert (entry.actor_repr, entry.target_id) == ("mallory", "")


def test_logout(client, agent):
    client.force_login(agent)
    client.post("/accounts/logout/")
    assert AuditLogEntry.objects.filter(action="logout", actor=agent).exists()


def test_staff_role_change_deactivation_and_reactivation(admin, agent):
    services.update_staff_member(actor=admin, member=agent, roles=["Manager"], email=agent.email)
    services.set_staff_active(actor=admin, member=agent, is_active=False)
    services.set_staff_active(actor=admin, member=agent, is_active=True)
    assert actions() == [
        "staff.role_changed",
        "staff.deactivated",
        "session.revoked_all",
        "staff.reactivated",
    ]
    change = AuditLogEntry.objects.get(action="staff.role_changed")
    assert change.details == {"before": ["Agent"], "after": ["Manager"]}
    assert (change.actor, change.target_type, change.target_id) == (
        admin,
        "accounts.user",
        str(agent.pk),
    )


def test_token_create_and_revoke(agent):
    token, _ = services.create_api_token(actor=agent, owner=agent, name="erp")
    services.revoke_api_token(actor=agent, token=token)
    assert actions() == ["api_token.created", "api_token.revoked"]
    assert AuditLogEntry.objects.filter(target_type="accounts.apitoken", target_id=str(token.pk))


def test_admin_add_change_delete_are_audited(admin_client, admin):
    admin_client.post("/admin/accounts/team/add/", {"name": "Night shift", "slug": "night"})
    team = Team.objects.get(slug="night")
    admin_client.post(
        f"/admin/accounts/team/{team.pk}/change/", {"name": "Night crew", "slug": "night"}
    )
    admin_client.post(f"/admin/accounts/team/{team.pk}/delete/", {"post": "yes"})
    rows = AuditLogEntry.objects.filter(target_type="accounts.team").order_by("id")
    assert [r.action for r in rows] == ["admin.added", "admin.changed", "admin.deleted"]
    assert all(r.actor == admin for r in rows)
    assert "Name" in rows[1].details["message"]
    assert rows[2].target_repr == "Night crew"


def test_role_policy_change_in_admin_is_audited(admin_client):
    policy = Group.objects.get(name="Manager").security_policy
    response = admin_client.post(
        f"/admin/accounts/rolesecuritypolicy/{policy.pk}/change/", {"require_two_factor": "on"}
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.require_two_factor
    assert AuditLogEntry.objects.filter(
        action="admin.changed", target_type="accounts.rolesecuritypolicy"
    ).exists()


def test_analytics_csv_export_is_audited(client):
    manager = UserFactory(role=Role.MANAGER)
    client.force_login(manager)
    response = client.get("/analytics/?format=csv&table=kpis")
    assert response.status_code == 200
    entry = AuditLogEntry.objects.get(action="export.analytics_csv")
    assert entry.actor == manager and entry.details["table"] == "kpis"
    client.get("/analytics/?format=csv&table=nope")  # refused: nothing exported
    assert AuditLogEntry.objects.filter(action__startswith="export.").count() == 1


def test_audit_admin_is_searchable_and_read_only_even_for_superusers(admin_client, agent):
    entry = record_audit(action="staff.deactivated", actor=agent, target=agent)
    listing = admin_client.get("/admin/accounts/auditlogentry/?q=deactivated")
    assert listing.status_code == 200
    assert "staff.deactivated" in listing.content.decode()
    assert "/admin/accounts/auditlogentry/add/" not in listing.content.decode()
    assert "delete_selected" not in listing.content.decode()
    assert admin_client.get("/admin/accounts/auditlogentry/add/").status_code == 403
    url = f"/admin/accounts/auditlogentry/{entry.pk}/"
    assert admin_client.get(f"{url}change/").status_code == 200  # a read-only view
    assert admin_client.post(f"{url}change/", {"action": "x"}).status_code == 403
    assert admin_client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    bulk = admin_client.post(
        "/admin/accounts/auditlogentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    assert AuditLogEntry.objects.filter(pk=entry.pk, action="staff.deactivated").exists()


def test_rows_are_append_only(agent):
    entry = record_audit(action="logout", actor=agent)
    entry.action = "tampered"
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    assert AuditLogEntry.objects.get(pk=entry.pk).action == "logout"


def test_retention_prunes_only_old_rows(agent, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    old = record_audit(action="logout", actor=agent)
    AuditLogEntry.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=31)
    )
    recent = record_audit(action="logout", actor=agent)
    assert prune_audit_log() == 1
    assert list(AuditLogEntry.objects.values_list("pk", flat=True)) == [recent.pk]


def test_prune_command_and_task(agent, settings):
    settings.AUDIT_RETENTION_DAYS = 1
    old = record_audit(action="logout", actor=agent)
    AuditLogEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    call_command("prune_audit_log")
    assert not AuditLogEntry.objects.exists()

    from accounts.tasks import prune_audit_log_task

    old = record_audit(action="logout", actor=agent)
    AuditLogEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    prune_audit_log_task.enqueue()
    assert not AuditLogEntry.objects.exists()
