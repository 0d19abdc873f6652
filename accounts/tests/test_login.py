import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from axes.utils import reset
from django.contrib.auth import SESSION_KEY
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from analytics.models import AnalyticsEvent
from tickets.models import Ticket
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture
def agent():
    return UserFactory(username="alex", role=Role.AGENT)


def login(client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


def test_login_and_logout(client, agent):
    response = login(client, "alex", DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(agent.pk)
    assert client.post("/accounts/logout/").status_code == 302
    assert SESSION_KEY not in client.session


def test_wrong_password_gives_no_hint_whether_the_user_exists(client, agent):
    wrong = login(client, "alex", "nope")
    unknown = login(client, "nobody", "nope")
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    assert "correct username and password" in str(wrong.context["form"].non_field_errors())


def test_failures_lock_the_username_and_ip_until_the_cool_off(client, agent, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "alex", "nope")
    locked = login(client, "alex", DEFAULT_PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.content.decode()
    assert SESSION_KEY not in client.session

    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + dt.timedelta(seconds=1)):
        assert login(client, "alex", DEFAULT_PASSWORD).status_code == 302
    assert client.session[SESSION_KEY] == str(agent.pk)


def test_lockout_is_per_username(client, agent, settings):
    UserFactory(username="blair", role=Role.AGENT)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "alex", "nope")
    assert login(client, "blair", DEFAULT_PASSWORD).status_code == 302


def test_admin_unlock(client, agent, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "alex", "nope")
    assert login(client, "alex", DEFAULT_PASSWORD).status_code == 429
    assert AccessAttempt.objects.filter(username="alex").exists()
    reset(username="alex")
    assert login(client, "alex", DEFAULT_PASSWORD).status_code == 302


def test_admin_sees_lockouts_in_the_admin(client, agent, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "alex", "nope")
    admin = UserFactory(role=Role.ADMIN, is_superuser=True)
    client.force_login(admin)
    response = client.get("/admin/axes/accessattempt/")
    assert response.status_code == 200
    assert "alex" in response.content.decode()


def test_deactivated_user_cannot_log_in_and_keeps_their_tickets(client, agent):
    ticket = TicketFactory(assignee=agent)
    agent.is_active = False
    agent.save()
    response = login(client, "alex", DEFAULT_PASSWORD)
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert Ticket.objects.get(pk=ticket.pk).assignee_id == agent.pk


def test_test_client_login_still_works_with_throttling_on(client, agent):
    assert client.login(username="alex", password=DEFAULT_PASSWORD)
    assert client.get("/").status_code == 200


def test_password_change(client, agent):
    client.force_login(agent)
    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "a-much-better-passphrase",
            "new_password2": "a-much-better-passphrase",
        },
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.check_password("a-much-better-passphrase")


def test_password_change_runs_the_validators(client, agent):
    client.force_login(agent)
    response = client.post(
        "/accounts/password/change/",
        {"old_password": DEFAULT_PASSWORD, "new_password1": "123", "new_password2": "123"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]


def test_password_reset_by_email(client, agent, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": agent.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [agent.email]
    link = next(line for line in mail.body.splitlines() if "/accounts/password/reset/" in line)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    form_page = client.get(path, follow=True)
    assert form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "fresh-secure-passphrase", "new_password2": "fresh-secure-passphrase"},
    )
    assert done.status_code == 302
    agent.refresh_from_db()
    assert agent.check_password("fresh-secure-passphrase")


def test_password_reset_for_unknown_email_looks_the_same_and_sends_nothing(client, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mailoutbox == []


def test_staff_manager_sees_the_lockout_and_unlocks_it(client, agent, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "alex", "nope")
    manager = UserFactory(role=Role.MANAGER)
    staff_client = client.__class__()
    staff_client.force_login(manager)
    assert "Locked out" in staff_client.get("/staff/").content.decode()
    response = staff_client.post(f"/staff/{agent.pk}/unlock/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Locked out" not in response.content.decode()
    assert AnalyticsEvent.objects.filter(name="staff.login_unlocked", actor=manager).exists()
    assert login(client, "alex", DEFAULT_PASSWORD).status_code == 302
