import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from accounts.selectors import list_staff
from accounts.services import (
    create_staff_member,
    reset_staff_password,
    set_staff_active,
    update_staff_member,
)
from accounts.tests.factories import UserFactory
from analytics.models import AnalyticsEvent
from comms.models import PresenceStatus, StaffPresence
from core.errors import ApplicationError, PermissionDenied
from tickets.models import TicketMessage, TicketStatus
from tickets.tests.factories import OutboundMessageFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(username="ada", role=Role.ADMIN)


@pytest.fixture
def manager():
    return UserFactory(username="mona", role=Role.MANAGER)


@pytest.fixture
def agent():
    return UserFactory(username="alex", role=Role.AGENT)


def roles_of(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def test_invite_creates_member_without_password_and_mails_a_link(
    manager, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        member = create_staff_member(
            actor=manager, username="newbie", email="newbie@printdesk.test", roles=["Agent"]
        )
    assert roles_of(member) == ["Agent"]
    assert not member.has_usable_password()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["newbie@printdesk.test"]
    assert "/accounts/password/reset/" in mailoutbox[0].body
    event = AnalyticsEvent.objects.get(name="staff.created")
    assert event.actor == manager
    assert event.subject_id == str(member.pk)


def test_managers_cannot_grant_admin(manager, agent):
    with pytest.raises(PermissionDenied):
        create_staff_member(actor=manager, username="x", email="x@printdesk.test", roles=["Admin"])
    with pytest.raises(PermissionDenied):
        update_staff_member(actor=manager, member=agent, email=agent.email, roles=["Admin"])
    assert roles_of(agent) == ["Agent"]


def test_managers_cannot_edit_admins(manager, admin):
    with pytest.raises(PermissionDenied):
        update_staff_member(actor=manager, member=admin, email=admin.email, roles=["Viewer"])
    with pytest.raises(PermissionDenied):
        set_staff_active(actor=manager, member=admin, is_active=False)
    with pytest.raises(PermissionDenied):
        reset_staff_password(actor=manager, member=admin)


def test_agents_cannot_manage_staff(agent):
    other = UserFactory(role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        update_staff_member(actor=agent, member=other, email=other.email, roles=["Agent"])


def test_role_change_is_audited_with_before_and_after(admin, agent):
    update_staff_member(actor=admin, member=agent, email=agent.email, roles=["Manager"])
    assert roles_of(agent) == ["Manager"]
    event = AnalyticsEvent.objects.get(name="staff.role_changed")
    assert event.actor == admin
    assert event.subject_id == str(agent.pk)
    assert event.properties == {"before": ["Agent"], "after": ["Manager"]}


def test_granting_admin_gives_admin_site_access(admin, agent):
    update_staff_member(actor=admin, member=agent, email=agent.email, roles=["Admin"])
    agent.refresh_from_db()
    assert agent.is_staff


def test_unknown_or_empty_roles_are_refused(admin, agent):
    with pytest.raises(ApplicationError):
        update_staff_member(actor=admin, member=agent, email=agent.email, roles=["Wizard"])
    with pytest.raises(ApplicationError):
        update_staff_member(actor=admin, member=agent, email=agent.email, roles=[])


def test_admin_cannot_drop_own_admin_role_or_deactivate_self(admin):
    with pytest.raises(ApplicationError):
        update_staff_member(actor=admin, member=admin, email=admin.email, roles=["Manager"])
    with pytest.raises(ApplicationError):
        set_staff_active(actor=admin, member=admin, is_active=False)


def test_deactivate_keeps_tickets_and_messages(manager, agent):
    ticket = TicketFactory(assignee=agent, status=TicketStatus.OPEN)
    message = OutboundMessageFactory(ticket=ticket, author=agent)
    set_staff_active(actor=manager, member=agent, is_active=False)
    agent.refresh_from_db()
    assert not agent.is_active
    assert User.objects.filter(pk=agent.pk).exists()
    assert agent.assigned_tickets.get() == ticket
    assert TicketMessage.objects.get(pk=message.pk).author_id == agent.pk
    assert AnalyticsEvent.objects.filter(name="staff.deactivated").count() == 1


def test_deactivated_member_session_ends(client, manager, agent):
    client.force_login(agent)
    assert client.get("/").status_code == 200
    set_staff_active(actor=manager, member=agent, is_active=False)
    assert client.get("/").status_code == 302


def test_reset_password_mails_a_link(
    manager, agent, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reset_staff_password(actor=manager, member=agent)
    assert [m.to for m in mailoutbox] == [[agent.email]]
    assert AnalyticsEvent.objects.filter(name="staff.password_reset_sent").count() == 1


def test_staff_list_shows_role_presence_and_open_tickets(manager, agent):
    StaffPresence.objects.create(user=agent, status=PresenceStatus.ONLINE)
    TicketFactory(assignee=agent, status=TicketStatus.OPEN)
    TicketFactory(assignee=agent, status=TicketStatus.PENDING)
    TicketFactory(assignee=agent, status=TicketStatus.SOLVED)
    row = list_staff().get(pk=agent.pk)
    assert row.open_ticket_count == 2
    assert row.presence.status == PresenceStatus.ONLINE
    assert [g.name for g in row.groups.all()] == ["Agent"]


def test_staff_page_runs_a_constant_number_of_queries(client, manager):
    client.force_login(manager)

    def count_for_page() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/staff/").status_code == 200
        return len(ctx.captured_queries)

    # The session's first request also does the once-a-minute account-security bookkeeping.
    count_for_page()
    few = count_for_page()
    for n in range(10):
        member = UserFactory(username=f"bulk{n}", role=Role.AGENT)
        StaffPresence.objects.create(user=member, status=PresenceStatus.AWAY)
        TicketFactory(assignee=member, status=TicketStatus.OPEN)
    assert count_for_page() == few


def test_staff_page_lists_members_with_actions_by_authority(client, manager, admin, agent):
    client.force_login(manager)
    html = client.get("/staff/").content.decode()
    assert f"/staff/{agent.pk}/deactivate/" in html
    assert f"/staff/{admin.pk}/deactivate/" not in html
    assert "Admin" in html


def test_edit_form_for_manager_offers_no_admin_role(client, manager, agent):
    client.force_login(manager)
    response = client.get(f"/staff/{agent.pk}/")
    choices = [value for value, _ in response.context["form"].fields["roles"].choices]
    assert choices == ["Manager", "Agent", "Viewer"]


def test_htmx_deactivate_returns_the_row(client, manager, agent):
    client.force_login(manager)
    response = client.post(f"/staff/{agent.pk}/deactivate/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="staff-row-{agent.pk}"')
    assert f"/staff/{agent.pk}/reactivate/" in html


def test_create_form_posts_and_redirects(
    client, admin, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/staff/new/",
            {"username": "vic", "email": "vic@printdesk.test", "roles": ["Viewer"]},
        )
    assert response.status_code == 302
    assert roles_of(User.objects.get(username="vic")) == ["Viewer"]
    assert len(mailoutbox) == 1


def test_create_form_shows_service_errors(client, admin, agent):
    client.force_login(admin)
    response = client.post(
        "/staff/new/", {"username": "ALEX", "email": "a@printdesk.test", "roles": ["Viewer"]}
    )
    assert response.status_code == 200
    assert "That username is taken." in response.content.decode()
