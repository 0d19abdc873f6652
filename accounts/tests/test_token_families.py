"""Refresh tokens rotate, a reused one revokes its family, and every way of ending a member's
access ends their JWT sign-ins too (issue 21, finding 2; docs/security.md)."""

import datetime as dt
import uuid

import jwt as pyjwt
import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services, two_factor
from accounts.models import AuditLogEntry, Role, TokenFamily
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tests.two_factor_helpers import enable_two_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(username="alex", role=Role.AGENT)


@pytest.fixture
def manager():
    return UserFactory(username="mona", role=Role.MANAGER)


def obtain(client, username: str = "alex", **extra) -> dict:
    response = client.post(
        "/api/auth/token/",
        {"username": username, "password": DEFAULT_PASSWORD, **extra},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def refresh(client, token: str):
    return client.post(
        "/api/auth/token/refresh/", {"refresh": token}, content_type="application/json"
    )


def me(client, access: str):
    return client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {access}")


def assert_refused(client, pair: dict, code: str = "token_revoked") -> None:
    """Neither the refresh nor the access token of `pair` works any more."""
    response = refresh(client, pair["refresh"])
    assert response.status_code == 401
    assert response.json()["code"] == code
    response = me(client, pair["access"])
    assert response.status_code == 401
    assert response.json()["code"] == code


def test_each_refresh_rotates_the_refresh_token(client, agent):
    first = obtain(client)
    second = refresh(client, first["refresh"]).json()
    third = refresh(client, second["refresh"]).json()
    assert len({first["refresh"], second["refresh"], third["refresh"]}) == 3
    assert me(client, third["access"]).json()["username"] == "alex"
    family = TokenFamily.objects.get(user=agent)
    assert family.rotated_at is not None and family.revoked_at is None


def test_a_reused_refresh_token_revokes_the_whole_family(client, agent):
    stolen = obtain(client)
    current = refresh(client, stolen["refresh"]).json()
    response = refresh(client, stolen["refresh"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_reused"
    # The legitimate client's newer tokens die with the family: the thief gains nothing.
    assert_refused(client, current)
    family = TokenFamily.objects.get(user=agent)
    assert family.revoked_reason == "reuse"
    assert AuditLogEntry.objects.get(action="jwt.refresh_reused").details == {
        "family": str(family.pk)
    }


def test_reuse_revokes_only_that_sign_in(client, agent):
    laptop, script = obtain(client), obtain(client)
    refresh(client, laptop["refresh"])
    refresh(client, laptop["refresh"])
    assert refresh(client, script["refresh"]).status_code == 200


def test_password_change_ends_every_jwt_sign_in(client, agent):
    pair = obtain(client)
    browser = Client()
    browser.force_login(agent)
    response = browser.post(
        "/accounts/password/change/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "a-brand-new-passphrase-9",
            "new_password2": "a-brand-new-passphrase-9",
        },
    )
    assert response.status_code == 302
    assert_refused(client, pair)
    assert TokenFamily.objects.get(user=agent).revoked_reason == "password_changed"


def test_a_password_set_anywhere_ends_them_too(client, agent):
    pair = obtain(client)
    agent.set_password("set-from-the-shell-42")
    agent.save()
    assert_refused(client, pair)


def test_sign_out_everywhere_else_ends_every_jwt_sign_in(client, agent):
    pairs = [obtain(client), obtain(client)]
    browser = Client()
    browser.post("/accounts/login/", {"username": "alex", "password": DEFAULT_PASSWORD})
    assert browser.post("/accounts/sessions/revoke-others/").status_code == 302
    for pair in pairs:
        assert_refused(client, pair)
    assert set(TokenFamily.objects.values_list("revoked_reason", flat=True)) == {"signed_out"}


def test_deactivation_ends_every_jwt_sign_in(client, agent, manager):
    pair = obtain(client)
    services.set_staff_active(actor=manager, member=agent, is_active=False)
    assert_refused(client, pair)
    assert TokenFamily.objects.get(user=agent).revoked_reason == "deactivated"


def test_two_factor_reset_ends_every_jwt_sign_in(client, agent, manager):
    recovery_codes = enable_two_factor(agent)
    pair = obtain(client, otp=recovery_codes[0])
    two_factor.reset_two_factor(actor=manager, member=agent)
    assert_refused(client, pair)
    assert TokenFamily.objects.get(user=agent).revoked_reason == "two_factor_reset"


def test_removing_a_role_ends_every_jwt_sign_in(client, manager):
    member = UserFactory(username="alex", role=Role.MANAGER)
    member.groups.add(*UserFactory(username="other", role=Role.AGENT).groups.all())
    kept = obtain(client)
    services.update_staff_member(
        actor=UserFactory(role=Role.ADMIN),
        member=member,
        roles=[Role.MANAGER, Role.AGENT],
        email=member.email,
    )
    assert refresh(client, kept["refresh"]).status_code == 200  # no role removed: nothing ends
    demoted = obtain(client)
    services.update_staff_member(
        actor=UserFactory(role=Role.ADMIN), member=member, roles=[Role.AGENT], email=member.email
    )
    assert_refused(client, demoted)
    assert TokenFamily.objects.filter(user=member, revoked_reason="role_removed").count() == 2


def test_removing_a_role_in_the_admin_ends_every_jwt_sign_in(client, agent):
    pair = obtain(client)
    admin = Client()
    admin.force_login(UserFactory(role=Role.ADMIN, is_superuser=True))
    page = admin.get(f"/admin/accounts/user/{agent.pk}/change/")
    form = page.context["adminform"].form
    data = {
        key: value
        for key, value in form.initial.items()
        if value is not None and key not in ("password", "groups", "user_permissions")
    }
    data.update(date_joined_0="2026-01-01", date_joined_1="10:00:00", is_active="on")
    data.pop("date_joined", None)
    data.pop("last_login", None)
    response = admin.post(f"/admin/accounts/user/{agent.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not agent.groups.exists()
    assert_refused(client, pair)


def test_a_sign_in_ends_after_the_family_lifetime_however_often_refreshed(client, agent, settings):
    pair = obtain(client)
    step = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] - dt.timedelta(hours=1)
    start = timezone.now()
    elapsed = dt.timedelta()
    while elapsed + step < settings.JWT_FAMILY_LIFETIME:
        elapsed += step
        with time_machine.travel(start + elapsed):
            pair = refresh(client, pair["refresh"]).json()
    with time_machine.travel(start + settings.JWT_FAMILY_LIFETIME + dt.timedelta(seconds=1)):
        response = refresh(client, pair["refresh"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_an_access_token_without_a_known_family_is_refused(client, agent, settings):
    pair = obtain(client)
    claims = pyjwt.decode(pair["access"], settings.JWT_SECRET, algorithms=["HS256"])
    for family in (None, "not-a-uuid", str(uuid.uuid4())):
        forged = {**claims, "fam": family}
        token = pyjwt.encode(forged, settings.JWT_SECRET, algorithm="HS256")
        response = me(client, token)
        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"


def test_a_family_belongs_to_one_user(client, agent, settings):
    pair = obtain(client)
    other = UserFactory(username="eve", role=Role.AGENT)
    claims = pyjwt.decode(pair["access"], settings.JWT_SECRET, algorithms=["HS256"])
    forged = pyjwt.encode(
        {**claims, "user_id": str(other.pk)}, settings.JWT_SECRET, algorithm="HS256"
    )
    assert me(client, forged).status_code == 401


def test_jwt_authentication_costs_one_query(client, agent):
    access = obtain(client)["access"]
    with CaptureQueriesContext(connection) as captured:
        assert me(client, access).status_code == 200
    sql = [query["sql"] for query in captured.captured_queries]
    # The family joined with its user, and no separate user lookup.
    assert len([q for q in sql if "accounts_tokenfamily" in q]) == 1
    assert [q for q in sql if 'FROM "accounts_user"' in q] == []
