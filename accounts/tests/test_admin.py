import pytest

from accounts.models import ApiToken, Role
from accounts.tests.factories import UserFactory
from accounts.tokens import hash_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(role=Role.ADMIN, is_superuser=True))
    return client


def test_admin_creates_a_token_and_sees_it_once(admin_client):
    owner = UserFactory(role=Role.AGENT)
    response = admin_client.post(
        "/admin/accounts/apitoken/add/", {"name": "erp", "owner": owner.pk}, follow=True
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    raw = next(m.split(": ", 1)[1] for m in shown if "shown only once" in m)
    token = ApiToken.objects.get()
    assert token.owner == owner
    assert token.key_hash == hash_token(raw)
    change_page = admin_client.get(f"/admin/accounts/apitoken/{token.pk}/change/")
    assert raw not in change_page.content.decode()


def test_admin_refuses_tokens_for_viewers(admin_client):
    viewer = UserFactory(role=Role.VIEWER)
    response = admin_client.post("/admin/accounts/apitoken/add/", {"name": "x", "owner": viewer.pk})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["owner"]
    assert not ApiToken.objects.exists()


def test_admin_revoke_action(admin_client):
    owner = UserFactory(role=Role.AGENT)
    admin_client.post("/admin/accounts/apitoken/add/", {"name": "erp", "owner": owner.pk})
    token = ApiToken.objects.get()
    admin_client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
