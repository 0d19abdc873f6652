import pytest
from django.contrib.auth import SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import AuditLogEntry, RecoveryCode, Role, RoleSecurityPolicy
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.two_factor_helpers import (
    current_code,
    enable_two_factor,
    next_step,
    sign_in_with_code,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(username="alex", role=Role.AGENT)


@pytest.fixture
def no_throttle(settings):
    # django-otp delays the next check after a wrong code; these tests check codes back to back.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def password_step(client, username: str, password: str = DEFAULT_PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def require_two_factor_for(role: str) -> None:
    RoleSecurityPolicy.objects.filter(group__name=role).update(require_two_factor=True)


# Enrolment --------------------------------------------------------------------------------------


def test_enrol_with_qr_code_and_confirmation_code(client, agent, no_throttle):
    client.force_login(agent)
    page = client.get("/accounts/two-factor/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="qr"' in html and "<svg" in html.split('class="qr"', 1)[1]
    device = TOTPDevice.objects.get(user=agent, confirmed=False)
    assert page.context["secret"] in html
    assert client.get("/accounts/two-factor/").context["secret"] == page.context["secret"]

    wrong = client.post("/accounts/two-factor/confirm/", {"code": "000000"})
    assert wrong.status_code == 400
    assert not two_factor.has_two_factor(user=agent)

    done = client.post("/accounts/two-factor/confirm/", {"code": current_code(device)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == len(set(codes)) == 10
    assert two_factor.has_two_factor(user=agent)
    stored = set(RecoveryCode.objects.filter(user=agent).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not stored & set(codes)  # only hashes are kept
    assert AuditLogEntry.objects.filter(action="two_factor.enabled", actor=agent).exists()
    # The enrolling session counts as verified: it keeps working.
    assert client.get("/").status_code == 200
    # Once enrolled, no new QR code is shown (the layout's icons are SVG too).
    assert 'class="qr"' not in client.get("/accounts/two-factor/").content.decode()


def test_login_asks_for_the_code_after_the_password(client, agent, no_throttle):
    enable_two_factor(agent)
    with next_step():
        first = password_step(client, "alex")
        assert first.status_code == 302
        assert first["Location"] == "/accounts/login/verify/"
        assert SESSION_KEY not in client.session
        assert client.get("/").status_code == 302  # not signed in yet

        wrong = client.post("/accounts/login/verify/", {"code": "123456"})
        assert wrong.status_code == 400
        assert SESSION_KEY not in client.session

        device = two_factor.get_confirmed_device(user=agent)
        done = client.post("/accounts/login/verify/", {"code": current_code(device)})
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.session[SESSION_KEY] == str(agent.pk)
    login = AuditLogEntry.objects.get(action="login.succeeded", actor=agent)
    assert login.details["two_factor"] == "totp"
    assert AuditLogEntry.objects.filter(action="two_factor.failed", target_id=str(agent.pk))


def test_a_code_is_accepted_only_once(client, agent, no_throttle):
    enable_two_factor(agent)
    with next_step():
        sign_in_with_code(client, agent)
        client.post("/accounts/logout/")
        password_step(client, "alex")
        device = two_factor.get_confirmed_device(user=agent)
        replay = client.post("/accounts/login/verify/", {"code": current_code(device)})
    assert replay.status_code == 400


def test_the_next_redirect_survives_the_code_step(client, agent):
    enable_two_factor(agent)
    with next_step():
        client.post(
            "/accounts/login/?next=/chat/",
            {"username": "alex", "password": DEFAULT_PASSWORD, "next": "/chat/"},
        )
        device = two_factor.get_confirmed_device(user=agent)
        done = client.post("/accounts/login/verify/", {"code": current_code(device)})
    assert done["Location"] == "/chat/"


def test_recovery_code_works_once(client, agent):
    codes = enable_two_factor(agent)
    password_step(client, "alex")
    used = client.post("/accounts/login/verify/", {"code": codes[0].upper()})
    assert used.status_code == 302
    assert client.session[SESSION_KEY] == str(agent.pk)
    entry = AuditLogEntry.objects.get(action="two_factor.recovery_code_used")
    assert entry.details == {"remaining": 9}
    client.post("/accounts/logout/")

    password_step(client, "alex")
    again = client.post("/accounts/login/verify/", {"code": codes[0]})
    assert again.status_code == 400
    assert SESSION_KEY not in client.session
    assert client.post("/accounts/login/verify/", {"code": codes[1]}).status_code == 302


def test_too_many_wrong_codes_restart_the_sign_in(client, agent, no_throttle):
    enable_two_factor(agent)
    password_step(client, "alex")
    for _ in range(4):
        assert client.post("/accounts/login/verify/", {"code": "000000"}).status_code == 400
    fifth = client.post("/accounts/login/verify/", {"code": "000000"})
    assert fifth.status_code == 302 and fifth["Location"] == "/accounts/login/"
    assert client.get("/accounts/login/verify/")["Location"] == "/accounts/login/"


def test_disable_needs_the_password(client, agent):
    enable_two_factor(agent)
    with next_step():
        sign_in_with_code(client, agent)
    wrong = client.post("/accounts/two-factor/disable/", {"password": "nope"}, follow=True)
    assert "not right" in wrong.content.decode()
    assert two_factor.has_two_factor(user=agent)

    client.post("/accounts/two-factor/disable/", {"password": DEFAULT_PASSWORD})
    assert not two_factor.has_two_factor(user=agent)
    assert not RecoveryCode.objects.filter(user=agent).exists()
    assert AuditLogEntry.objects.filter(action="two_factor.disabled", actor=agent).exists()
    client.post("/accounts/logout/")
    assert password_step(client, "alex")["Location"] == "/"


def test_new_recovery_codes_replace_the_old_ones(client, agent):
    old = enable_two_factor(agent)
    with next_step():
        sign_in_with_code(client, agent)
    response = client.post("/accounts/two-factor/recovery-codes/", {"password": DEFAULT_PASSWORD})
    new = response.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert two_factor.verify_second_factor(user=agent, code=old[0]) is None
    assert two_factor.verify_second_factor(user=agent, code=new[0]) == "recovery"


def test_a_session_from_before_2fa_was_turned_on_is_signed_out(client, agent):
    client.force_login(agent)
    assert client.get("/").status_code == 200
    enable_two_factor(agent)
    session = client.session
    session.pop("accounts.security_state")  # as if the once-a-minute recheck came due
    session.save()
    response = client.get("/tickets/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert SESSION_KEY not in client.session


# Required 2FA per role --------------------------------------------------------------------------


def test_role_that_requires_2fa_sends_members_to_enrolment(client, no_throttle):
    manager = UserFactory(username="mona", role=Role.MANAGER)
    require_two_factor_for(Role.MANAGER)
    assert password_step(client, "mona")["Location"] == "/"
    assert client.get("/")["Location"] == "/accounts/two-factor/"
    assert client.get("/tickets/")["Location"] == "/accounts/two-factor/"
    api = client.get("/api/me/")
    assert api.status_code == 403 and api.json()["code"] == "two_factor_required"
    assert client.get("/notifications/bell/", HTTP_HX_REQUEST="true").status_code == 403

    page = client.get("/accounts/two-factor/")
    assert page.status_code == 200 and page.context["required"]
    device = TOTPDevice.objects.get(user=manager)
    client.post("/accounts/two-factor/confirm/", {"code": current_code(device)})
    assert client.get("/").status_code == 200
    # Required: the page offers no way to turn it off.
    page = client.get("/accounts/two-factor/").content.decode()
    assert "/accounts/two-factor/disable/" not in page


def test_roles_without_the_requirement_are_not_redirected(client, agent):
    require_two_factor_for(Role.MANAGER)
    assert password_step(client, "alex")["Location"] == "/"
    assert client.get("/").status_code == 200


def test_no_role_requires_2fa_by_default():
    assert RoleSecurityPolicy.objects.count() == 4
    assert not RoleSecurityPolicy.objects.filter(require_two_factor=True).exists()


# Django admin -----------------------------------------------------------------------------------


def test_admin_login_form_is_ours(client):
    response = client.get("/admin/login/?next=/admin/accounts/user/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/accounts/user/"
    assert client.get("/admin/")["Location"].startswith("/admin/login/")


def test_admin_is_behind_the_same_2fa(client):
    admin = UserFactory(username="ada", role=Role.ADMIN, is_superuser=True)
    enable_two_factor(admin)
    with next_step():
        password_step(client, "ada")
        assert client.get("/admin/").status_code == 302  # password alone is not enough
        device = two_factor.get_confirmed_device(user=admin)
        client.post("/accounts/login/verify/", {"code": current_code(device)})
    assert client.get("/admin/").status_code == 200


def test_admin_without_required_2fa_is_sent_to_enrolment(client):
    UserFactory(username="ada", role=Role.ADMIN, is_superuser=True)
    require_two_factor_for(Role.ADMIN)
    password_step(client, "ada")
    assert client.get("/admin/")["Location"] == "/accounts/two-factor/"
    assert client.get("/admin/login/")["Location"] == "/accounts/two-factor/"


def test_admin_login_refuses_a_signed_in_user_without_admin_access(client, agent):
    client.force_login(agent)
    assert client.get("/admin/login/").status_code == 403  # no second, password-only form


def test_admin_unverified_session_has_no_admin_access(client, rf):
    from django.contrib.admin import site

    admin = UserFactory(username="ada", role=Role.ADMIN, is_superuser=True)
    enable_two_factor(admin)
    client.force_login(admin)
    request = rf.get("/admin/")
    request.user = admin
    request.session = client.session
    assert not site.has_permission(request)
    two_factor.mark_session_verified(request, method="totp")
    assert site.has_permission(request)


# JWT --------------------------------------------------------------------------------------------


def obtain(client, username: str, **extra):
    return client.post(
        "/api/auth/token/",
        {"username": username, "password": DEFAULT_PASSWORD, **extra},
        content_type="application/json",
    )


def test_jwt_without_2fa_needs_no_code(client, agent):
    response = obtain(client, "alex")
    assert response.status_code == 200
    entry = AuditLogEntry.objects.get(action="login.succeeded", actor=agent)
    assert entry.details == {"method": "jwt", "two_factor": ""}


def test_jwt_needs_the_code_when_2fa_is_on(client, agent, no_throttle):
    codes = enable_two_factor(agent)
    with next_step():
        missing = obtain(client, "alex")
        assert missing.status_code == 401
        assert missing.json()["code"] == "otp_required"
        wrong = obtain(client, "alex", otp="000000")
        assert wrong.status_code == 401
        assert wrong.json()["code"] == "otp_invalid"
        device = two_factor.get_confirmed_device(user=agent)
        ok = obtain(client, "alex", otp=current_code(device))
        assert ok.status_code == 200
        access = ok.json()["access"]
        assert client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200
    assert obtain(client, "alex", otp=codes[0]).status_code == 200
    assert AuditLogEntry.objects.filter(
        action="login.succeeded", actor=agent, details__two_factor="recovery"
    ).exists()


def test_jwt_refused_until_a_required_2fa_is_set_up(client, agent):
    require_two_factor_for(Role.AGENT)
    response = obtain(client, "alex")
    assert response.status_code == 403
    assert response.json()["code"] == "two_factor_enrolment_required"


def test_api_tokens_are_unaffected_by_2fa(client, agent):
    from accounts.services import create_api_token

    enable_two_factor(agent)
    _, raw = create_api_token(actor=agent, owner=agent, name="ci")
    assert client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_staff_page_shows_who_uses_2fa(client, agent):
    other = UserFactory(username="blair", role=Role.AGENT)
    enable_two_factor(agent)
    client.force_login(UserFactory(role=Role.MANAGER))
    html = client.get("/staff/").content.decode()
    row = html.split(f'id="staff-row-{agent.pk}"')[1].split("</tr>")[0]
    other_row = html.split(f'id="staff-row-{other.pk}"')[1].split("</tr>")[0]
    assert ">2FA</span>" in row and ">2FA</span>" not in other_row


def test_a_staff_manager_resets_a_lost_phone(client, agent):
    enable_two_factor(agent)
    manager = UserFactory(role=Role.MANAGER)
    client.force_login(manager)
    response = client.post(f"/staff/{agent.pk}/reset-two-factor/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Two-factor sign-in reset" in response.content.decode()
    assert not two_factor.has_two_factor(user=agent)
    entry = AuditLogEntry.objects.get(action="two_factor.reset")
    assert (entry.actor, entry.target_id) == (manager, str(agent.pk))


def test_managers_cannot_reset_an_admins_2fa(client):
    admin = UserFactory(role=Role.ADMIN)
    enable_two_factor(admin)
    client.force_login(UserFactory(role=Role.MANAGER))
    assert client.post(f"/staff/{admin.pk}/reset-two-factor/").status_code == 403
    assert two_factor.has_two_factor(user=admin)
