import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken, Role
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT)


def test_session_auth_works_and_enforces_csrf(agent):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(agent)
    assert client.get("/api/me/").json()["auth"] == "session"
    response = client.post("/api/tokens/", {"name": "ci"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_bearer_token_needs_no_csrf(agent):
    owner_client = APIClient()
    owner_client.force_login(agent)
    raw = owner_client.post("/api/tokens/", {"name": "ci"}, format="json").json()["token"]
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.post("/api/tokens/", {"name": "second"}, format="json")
    assert response.status_code == 201


def test_token_api_create_list_revoke(agent):
    client = APIClient()
    client.force_login(agent)
    created = client.post("/api/tokens/", {"name": "ci"}, format="json").json()
    assert created["token"].startswith(f"pd_{created['prefix']}_")
    listed = client.get("/api/tokens/").json()
    assert [t["name"] for t in listed] == ["ci"]
    assert "token" not in listed[0]
    revoked = client.post(f"/api/tokens/{created['id']}/revoke/").json()
    assert revoked["revoked_at"] is not None
    anonymous = APIClient()
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {created['token']}")
    assert anonymous.get("/api/me/").status_code == 401


def test_token_api_validates_input(agent):
    client = APIClient()
    client.force_login(agent)
    response = client.post("/api/tokens/", {"expires_at": "yesterday"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"name", "expires_at"}
    response = client.post(
        "/api/tokens/", {"name": "old", "expires_at": "2001-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_cannot_revoke_someone_elses_token_via_api(agent):
    other = APIClient()
    other.force_login(UserFactory(role=Role.MANAGER))
    token_id = other.post("/api/tokens/", {"name": "theirs"}, format="json").json()["id"]
    client = APIClient()
    client.force_login(agent)
    assert client.post(f"/api/tokens/{token_id}/revoke/").status_code == 404


def test_schema_lists_the_accounts_endpoints(agent):
    client = APIClient()
    client.force_login(agent)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/me/", "/api/auth/token/", "/api/auth/token/refresh/", "/api/tokens/"):
        assert path in schema["paths"], path
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
