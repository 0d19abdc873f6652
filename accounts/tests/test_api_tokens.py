import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from accounts.models import ApiToken, Role
from accounts.services import create_api_token, revoke_api_token
from accounts.tests.factories import UserFactory
from analytics.models import AnalyticsEvent
from core.errors import PermissionDenied

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT)


def test_token_lifecycle_create_use_revoke(client, agent):
    token, raw = create_api_token(actor=agent, owner=agent, name="ci")

    response = client.get("/api/me/", **bearer(raw))
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == agent.username
    assert body["roles"] == ["Agent"]
    assert body["auth"] == "api_token"
    assert "tickets.reply_ticket" in body["permissions"]
    assert "tickets.assign_ticket" not in body["permissions"]
    token.refresh_from_db()
    assert token.last_used_at is not None

    revoke_api_token(actor=agent, token=token)
    response = client.get("/api/me/", **bearer(raw))
    assert response.status_code == 401
    assert response.json() == {"detail": "This token has been revoked.", "code": "token_revoked"}
    assert (
        AnalyticsEvent.objects.filter(name__in=["api_token.created", "api_token.revoked"]).count()
        == 2
    )


def test_token_is_hashed_at_rest(agent):
    token, raw = create_api_token(actor=agent, owner=agent, name="ci")
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert all(raw not in str(value) for value in stored.values())
    assert len(stored["key_hash"]) == 64
    assert raw.startswith(f"pd_{stored['prefix']}_")


def test_expired_token_is_refused(client, agent):
    expires_at = timezone.now() + dt.timedelta(hours=1)
    _, raw = create_api_token(actor=agent, owner=agent, name="short", expires_at=expires_at)
    assert client.get("/api/me/", **bearer(raw)).status_code == 200
    with time_machine.travel(expires_at + dt.timedelta(seconds=1)):
        response = client.get("/api/me/", **bearer(raw))
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer pd_deadbeef_not-a-real-token",
        "Bearer pd_",
        "Bearer not.a.jwt",
        "Bearer two parts",
        "Bearer",
    ],
)
def test_malformed_or_unknown_tokens_are_401_json(client, header):
    response = client.get("/api/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_with_the_right_prefix_but_wrong_secret_is_refused(client, agent):
    _, raw = create_api_token(actor=agent, owner=agent, name="ci")
    response = client.get("/api/me/", **bearer(raw[:-4] + "AAAA"))
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_token_of_deactivated_owner_is_refused(client, agent):
    _, raw = create_api_token(actor=agent, owner=agent, name="ci")
    agent.is_active = False
    agent.save()
    response = client.get("/api/me/", **bearer(raw))
    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"


def test_token_carries_only_its_owners_permissions(client):
    viewer_like = UserFactory(role=Role.AGENT)
    _, raw = create_api_token(actor=viewer_like, owner=viewer_like, name="ci")
    viewer_like.groups.clear()
    body = client.get("/api/me/", **bearer(raw)).json()
    assert body["roles"] == []
    assert body["permissions"] == []


def test_viewers_cannot_create_tokens():
    viewer = UserFactory(role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        create_api_token(actor=viewer, owner=viewer, name="ci")


def test_nobody_creates_tokens_for_someone_else(agent):
    manager = UserFactory(role=Role.MANAGER)
    with pytest.raises(PermissionDenied):
        create_api_token(actor=manager, owner=agent, name="ci")


def test_token_page_shows_the_token_once(client, agent):
    client.force_login(agent)
    response = client.post("/accounts/tokens/", {"name": "curl"})
    assert response.status_code == 200
    raw = response.context["raw_token"]
    assert raw.startswith("pd_")
    assert raw in response.content.decode()
    assert raw not in client.get("/accounts/tokens/").content.decode()
    assert client.get("/api/me/", **bearer(raw)).json()["username"] == agent.username


def test_token_page_revokes_only_own_tokens(client, agent):
    other = UserFactory(role=Role.AGENT)
    token, _ = create_api_token(actor=other, owner=other, name="theirs")
    client.force_login(agent)
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
