import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import UserFactory
from comms import services
from comms.models import Channel, ChannelKind
from comms.tests.factories import ChannelFactory, NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT, username="ana")


@pytest.fixture
def api(agent):
    client = APIClient()
    client.force_authenticate(agent)
    return client


def test_list_channels_with_unread(api, agent):
    general = Channel.objects.get(slug="general")
    services.join_channel(channel=general, user=agent)
    services.post_message(channel=general, author=UserFactory(role=Role.AGENT), body="hi")
    ChannelFactory(slug="hidden", kind=ChannelKind.PRIVATE)
    rows = {row["slug"]: row for row in api.get("/api/channels/").json()}
    assert rows["general"]["unread_count"] == 1 and rows["general"]["is_member"]
    assert "hidden" not in rows


def test_messages_cursor_pagination_newest_first(api, agent):
    general = Channel.objects.get(slug="general")
    for n in range(5):
        services.post_message(channel=general, author=agent, body=f"m{n}")
    first = api.get("/api/channels/general/messages/?page_size=2").json()
    assert [m["body"] for m in first["results"]] == ["m4", "m3"]
    second = api.get(first["next"]).json()
    assert [m["body"] for m in second["results"]] == ["m2", "m1"]


def test_post_edit_delete_and_thread(api, agent):
    created = api.post("/api/channels/general/messages/", {"body": "**hey** @bob"}, format="json")
    assert created.status_code == 201
    message = created.json()
    assert message["body_html"].startswith("<strong>hey</strong>")
    reply = api.post(
        f"/api/channels/general/messages/{message['id']}/thread/", {"body": "r"}, format="json"
    )
    assert reply.status_code == 201 and reply.json()["thread_root"] == message["id"]
    thread = api.get(f"/api/channels/general/messages/{message['id']}/thread/").json()
    assert [m["body"] for m in thread] == ["r"]
    edited = api.patch(
        f"/api/channels/general/messages/{message['id']}/", {"body": "edited"}, format="json"
    )
    assert edited.json()["body"] == "edited" and edited.json()["edited_at"]
    assert api.delete(f"/api/channels/general/messages/{message['id']}/").status_code == 204
    top = api.get("/api/channels/general/messages/").json()["results"][0]
    assert top["is_deleted"] and top["body"] == "" and top["reply_count"] == 1


def test_errors_have_detail_and_code(api):
    empty = api.post("/api/channels/general/messages/", {"body": ""}, format="json")
    assert empty.status_code == 400 and empty.json()["code"] == "empty_message"
    assert empty.json()["fields"] == {"body": ["Write a message or attach a file."]}
    missing = api.get("/api/channels/nope/messages/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    denied = api.post("/api/channels/create/", {"name": "x"}, format="json")
    assert denied.status_code == 403


def test_viewer_cannot_post():
    client = APIClient()
    client.force_authenticate(UserFactory(role=Role.VIEWER))
    response = client.post("/api/channels/general/messages/", {"body": "hi"}, format="json")
    assert response.status_code == 403


def test_manager_creates_channel():
    client = APIClient()
    client.force_authenticate(UserFactory(role=Role.MANAGER))
    response = client.post(
        "/api/channels/create/", {"name": "Press Room", "kind": "private"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["slug"] == "press-room" and response.json()["kind"] == "private"


def test_notifications_api(api, agent):
    first = NotificationFactory(recipient=agent, title="one")
    NotificationFactory(recipient=agent, title="two")
    NotificationFactory(title="other")
    rows = api.get("/api/notifications/").json()["results"]
    assert [r["title"] for r in rows] == ["two", "one"]
    assert api.post(f"/api/notifications/{first.pk}/read/").json()["read_at"]
    assert [r["title"] for r in api.get("/api/notifications/?unread=true").json()["results"]] == [
        "two"
    ]
    assert api.post("/api/notifications/read-all/").json() == {"marked": 1}
    assert api.post("/api/notifications/999999/read/").status_code == 404


def test_schema_documents_comms_endpoints(client):
    admin = UserFactory(role=Role.ADMIN)
    client.force_login(admin)
    schema = client.get("/api/schema/?format=json").json()
    for path in (
        "/api/channels/",
        "/api/channels/{slug}/messages/",
        "/api/channels/{slug}/messages/{message_id}/thread/",
        "/api/notifications/",
    ):
        assert path in schema["paths"]


def test_schema_documents_the_paginated_list_bodies(client):
    """Found by API fuzzing: the lists answer {next, previous, results}, not a bare array."""
    client.force_login(UserFactory(role=Role.ADMIN))
    schema = client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    for path in ("/api/channels/{slug}/messages/", "/api/notifications/"):
        body = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        component = components[body["schema"]["$ref"].rsplit("/", 1)[-1]]
        assert {"next", "previous", "results"} <= set(component["properties"])
        assert "404" in schema["paths"][path]["get"]["responses"]  # an invalid cursor
    assert "400" in schema["paths"]["/api/notifications/"]["get"]["responses"]  # unread=maybe
