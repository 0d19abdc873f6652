import datetime as dt

import jwt as pyjwt
import pytest
import time_machine
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return UserFactory(username="mona", role=Role.MANAGER)


def obtain(client, username: str, password: str):
    return client.post(
        "/api/auth/token/",
        {"username": username, "password": password},
        content_type="application/json",
    )


def me(client, access: str):
    return client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {access}")


def test_obtain_then_call_api_with_access_token(client, manager):
    response = obtain(client, "mona", DEFAULT_PASSWORD)
    assert response.status_code == 200
    pair = response.json()
    body = me(client, pair["access"]).json()
    assert body["username"] == "mona"
    assert body["roles"] == ["Manager"]
    assert body["auth"] == "jwt"
    assert "accounts.manage_staff" in body["permissions"]


def test_wrong_password_and_unknown_user_get_the_same_answer(client, manager):
    wrong = obtain(client, "mona", "nope")
    unknown = obtain(client, "nobody", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "no_active_account"


def test_refresh_gives_a_new_working_access_token(client, manager):
    pair = obtain(client, "mona", DEFAULT_PASSWORD).json()
    response = client.post(
        "/api/auth/token/refresh/", {"refresh": pair["refresh"]}, content_type="application/json"
    )
    assert response.status_code == 200
    assert me(client, response.json()["access"]).status_code == 200


def test_refresh_rejects_an_access_token_and_garbage(client, manager):
    pair = obtain(client, "mona", DEFAULT_PASSWORD).json()
    for refresh in (pair["access"], "garbage"):
        response = client.post(
            "/api/auth/token/refresh/", {"refresh": refresh}, content_type="application/json"
        )
        assert response.status_code == 401
        assert response.json() == {
            "detail": "Token is invalid or expired.",
            "code": "token_not_valid",
        }


def test_access_token_expires(client, manager, settings):
    pair = obtain(client, "mona", DEFAULT_PASSWORD).json()
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    with time_machine.travel(timezone.now() + lifetime + dt.timedelta(seconds=5)):
        response = me(client, pair["access"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_refresh_token_expires(client, manager, settings):
    pair = obtain(client, "mona", DEFAULT_PASSWORD).json()
    lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    with time_machine.travel(timezone.now() + lifetime + dt.timedelta(seconds=5)):
        response = client.post(
            "/api/auth/token/refresh/",
            {"refresh": pair["refresh"]},
            content_type="application/json",
        )
    assert response.status_code == 401


def test_token_signed_with_another_secret_is_rejected(client, manager, settings):
    pair = obtain(client, "mona", DEFAULT_PASSWORD).json()
    claims = pyjwt.decode(pair["access"], settings.JWT_SECRET, algorithms=["HS256"])
    forged = pyjwt.encode(claims, "another-secret-of-at-least-32-bytes!", algorithm="HS256")
    assert me(client, pair["access"]).status_code == 200
    response = me(client, forged)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_tokens_are_signed_with_jwt_secret(client, manager, settings):
    access = obtain(client, "mona", DEFAULT_PASSWORD).json()["access"]
    claims = pyjwt.decode(access, settings.JWT_SECRET, algorithms=["HS256"])
    assert str(claims["user_id"]) == str(manager.pk)


def test_deactivated_user_cannot_obtain_or_use_jwt(client, manager):
    access = obtain(client, "mona", DEFAULT_PASSWORD).json()["access"]
    manager.is_active = False
    manager.save()
    assert obtain(client, "mona", DEFAULT_PASSWORD).status_code == 401
    response = me(client, access)
    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"


def test_jwt_obtain_is_throttled_like_the_login_page(client, manager, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        obtain(client, "mona", "nope")
    response = obtain(client, "mona", DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
