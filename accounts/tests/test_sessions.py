import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.test import Client

from accounts import services, user_sessions
from accounts.models import AuditLogEntry, Role, UserSession
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def agent():
    return UserFactory(username="alex", role=Role.AGENT)


def signed_in(user_agent: str, ip: str, username: str = "alex") -> Client:
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    response = client.post("/accounts/login/", {"username": username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return client


def test_the_session_list_shows_each_device(agent):
    laptop = signed_in(FIREFOX, "198.51.100.7")
    signed_in(IPHONE, "203.0.113.20")
    page = laptop.get("/accounts/sessions/")
    assert page.status_code == 200
    rows = {row.device: row for row in page.context["sessions"]}
    assert set(rows) == {"Firefox on Windows", "Safari on iPhone"}
    assert rows["Firefox on Windows"].is_current
    assert rows["Safari on iPhone"].ip_address == "203.0.113.20"
    assert "This browser" in page.content.decode()


def test_last_seen_is_written_at_most_once_a_minute(agent, time_machine):
    time_machine.move_to("2026-11-25 10:00:00Z")
    laptop = signed_in(FIREFOX, "198.51.100.7")
    first = UserSession.objects.get().last_seen_at
    time_machine.move_to("2026-11-25 10:00:30Z")
    laptop.get("/")
    assert UserSession.objects.get().last_seen_at == first
    time_machine.move_to("2026-11-25 10:01:05Z")
    laptop.get("/")
    assert UserSession.objects.get().last_seen_at > first


def test_sign_out_one_other_device(agent):
    laptop = signed_in(FIREFOX, "198.51.100.7")
    phone = signed_in(IPHONE, "203.0.113.20")
    phone_row = UserSession.objects.get(user_agent=IPHONE)
    response = laptop.post(f"/accounts/sessions/{phone_row.pk}/revoke/")
    assert response.status_code == 302
    assert phone.get("/").status_code == 302  # back to the login page
    assert SESSION_KEY not in phone.session
    assert laptop.get("/").status_code == 200
    assert not Session.objects.filter(session_key=phone_row.session_key).exists()
    entry = AuditLogEntry.objects.get(action="session.revoked")
    assert entry.actor == agent and entry.details["ip"] == "203.0.113.20"


def test_someone_elses_session_is_not_found(agent):
    other = UserFactory(role=Role.AGENT)
    signed_in(FIREFOX, "198.51.100.7", username=other.username)
    laptop = signed_in(FIREFOX, "198.51.100.8")
    foreign = UserSession.objects.get(user=other)
    assert laptop.post(f"/accounts/sessions/{foreign.pk}/revoke/").status_code == 404
    assert UserSession.objects.filter(pk=foreign.pk).exists()


def test_sign_out_everywhere_else(agent):
    laptop = signed_in(FIREFOX, "198.51.100.7")
    phone = signed_in(IPHONE, "203.0.113.20")
    tablet = signed_in(IPHONE.replace("iPhone;", "iPad;"), "203.0.113.21")
    laptop.post("/accounts/sessions/revoke-others/")
    assert phone.get("/").status_code == tablet.get("/").status_code == 302
    assert laptop.get("/").status_code == 200
    assert UserSession.objects.filter(user=agent).count() == 1
    assert AuditLogEntry.objects.get(action="session.revoked_others").details == {"count": 2}


def test_logout_drops_the_session_from_the_list(agent):
    laptop = signed_in(FIREFOX, "198.51.100.7")
    assert UserSession.objects.filter(user=agent).exists()
    laptop.post("/accounts/logout/")
    assert not UserSession.objects.filter(user=agent).exists()


def test_deactivation_ends_every_session(agent):
    manager = UserFactory(role=Role.MANAGER)
    phone = signed_in(IPHONE, "203.0.113.20")
    services.set_staff_active(actor=manager, member=agent, is_active=False)
    assert not UserSession.objects.filter(user=agent).exists()
    assert phone.get("/").status_code == 302
    assert AuditLogEntry.objects.get(action="session.revoked_all").details == {"count": 1}


def test_device_labels():
    describe = user_sessions.describe_user_agent
    assert describe(FIREFOX) == "Firefox on Windows"
    assert describe(IPHONE) == "Safari on iPhone"
    assert describe("curl/8.5.0") == "curl"
    assert describe("") == "Unknown device"


def test_deactivation_in_the_admin_ends_every_session(agent):
    admin = Client()
    admin.force_login(UserFactory(role=Role.ADMIN, is_superuser=True))
    phone = signed_in(IPHONE, "203.0.113.20")
    page = admin.get(f"/admin/accounts/user/{agent.pk}/change/")
    form = page.context["adminform"].form
    data = {
        key: value
        for key, value in form.initial.items()
        if value is not None and key not in ("password", "groups", "user_permissions")
    }
    data.update(is_active="", date_joined_0="2026-01-01", date_joined_1="10:00:00")
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = admin.post(f"/admin/accounts/user/{agent.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    agent.refresh_from_db()
    assert not agent.is_active
    assert not UserSession.objects.filter(user=agent).exists()
    assert phone.get("/").status_code == 302
