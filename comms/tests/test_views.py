import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from comms import services
from comms.models import Channel, ChannelKind, ChannelMember, ChannelMessage, Notification
from comms.tests.factories import ChannelFactory, ChannelMemberFactory, NotificationFactory
from comms.tests.permission_matrix import ROWS

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(client):
    user = UserFactory(role=Role.AGENT, username="ana")
    client.force_login(user)
    return user


@pytest.fixture
def general():
    return Channel.objects.get(slug="general")


def test_chat_home_redirects_to_general(client, agent):
    assert client.get("/chat/").url == "/chat/general/"


def test_anonymous_goes_to_login(client):
    assert client.get("/chat/general/").status_code == 302


def test_channel_page_shows_messages_unread_and_marks_read(client, agent, general):
    bob = UserFactory(role=Role.AGENT, username="bob")
    services.join_channel(channel=general, user=agent)
    services.post_message(channel=general, author=bob, body="hello **there**")
    sales = Channel.objects.get(slug="sales")
    services.join_channel(channel=sales, user=agent)
    services.post_message(channel=sales, author=bob, body="quote for 500 flyers")
    page = client.get("/chat/general/").content.decode()
    assert "hello <strong>there</strong>" in page
    assert 'data-unread-for="sales">1<' in page
    assert 'data-subscribe-channel="general"' in page
    assert 'data-typing-channel="general"' in page
    assert ChannelMember.objects.get(channel=general, user=agent).last_read_at is not None


def test_private_channel_is_404_for_outsiders(client, agent):
    ChannelFactory(slug="secret", kind=ChannelKind.PRIVATE)
    assert client.get("/chat/secret/").status_code == 404
    assert client.post("/chat/secret/post/", {"body": "hi"}).status_code == 404


def test_post_edit_delete_through_forms(client, agent, general):
    response = client.post("/chat/general/post/", {"body": "first draft"})
    message = ChannelMessage.objects.get(author=agent)
    assert response.url == f"/chat/general/#message-{message.pk}"
    client.post(f"/chat/general/messages/{message.pk}/edit/", {"body": "final"})
    message.refresh_from_db()
    assert message.body == "final"
    client.post(f"/chat/general/messages/{message.pk}/delete/")
    message.refresh_from_db()
    assert message.deleted_at is not None
    assert "This message was deleted." in client.get("/chat/general/").content.decode()


def test_thread_pane(client, agent, general):
    root = services.post_message(channel=general, author=agent, body="root message")
    response = client.post("/chat/general/post/", {"body": "a reply", "thread_root": root.pk})
    assert response.url.startswith(f"/chat/general/?thread={root.pk}")
    page = client.get(f"/chat/general/?thread={root.pk}").content.decode()
    assert 'id="thread-pane"' in page and "a reply" in page and "1 reply" in page
    assert client.get("/chat/general/?thread=999999").status_code == 404


def test_empty_post_shows_error(client, agent):
    response = client.post("/chat/general/post/", {"body": "  "}, follow=True)
    assert "Write a message first." in response.content.decode()


def test_search(client, agent, general):
    services.post_message(channel=general, author=agent, body="the laminator jammed")
    page = client.get("/chat/general/?q=laminator").content.decode()
    assert "Results for" in page and "laminator jammed" in page


def test_join_and_leave(client, agent):
    client.post("/chat/sales/join/")
    assert ChannelMember.objects.filter(channel__slug="sales", user=agent).exists()
    client.post("/chat/sales/leave/")
    assert not ChannelMember.objects.filter(channel__slug="sales", user=agent).exists()


def test_direct_message(client, agent):
    bob = UserFactory(role=Role.AGENT)
    response = client.post(f"/chat/dm/{bob.pk}/")
    channel = Channel.objects.get(kind=ChannelKind.DIRECT)
    assert response.url == f"/chat/{channel.slug}/"


def test_manager_creates_and_manages_channel(client):
    manager = UserFactory(role=Role.MANAGER)
    client.force_login(manager)
    response = client.post("/chat/new/", {"name": "Night shift", "kind": "private"})
    assert response.url == "/chat/night-shift/"
    agent = UserFactory(role=Role.AGENT)
    client.post("/chat/night-shift/members/", {"action": "add", "user": agent.pk})
    assert ChannelMember.objects.filter(channel__slug="night-shift", user=agent).exists()
    client.post("/chat/night-shift/archive/", {"archived": "1"})
    assert Channel.objects.get(slug="night-shift").is_archived


def test_agent_cannot_manage(client, agent, general):
    assert client.post("/chat/general/archive/").status_code == 403
    assert client.get("/chat/new/").status_code == 403


def test_viewer_reads_but_cannot_post(client):
    client.force_login(UserFactory(role=Role.VIEWER))
    page = client.get("/chat/general/").content.decode()
    assert 'id="chat-composer"' not in page
    assert client.post("/chat/general/post/", {"body": "hi"}).status_code == 403


def test_notifications_page_bell_and_mark_read(client, agent):
    first = NotificationFactory(recipient=agent, title="You were mentioned", url="/chat/general/")
    NotificationFactory(recipient=agent, title="Other")
    NotificationFactory(title="Not yours")
    bell = client.get("/notifications/bell/").content.decode()
    assert 'id="notification-count" class="badge">2<' in bell
    page = client.get("/notifications/").content.decode()
    assert "You were mentioned" in page and "Not yours" not in page
    assert client.post(f"/notifications/{first.pk}/read/", {"open": "1"}).url == "/chat/general/"
    client.post("/notifications/read-all/")
    assert not Notification.objects.filter(recipient=agent, read_at__isnull=True).exists()
    assert 'id="notification-count"' not in client.get("/notifications/bell/").content.decode()


def test_base_layout_loads_realtime_for_signed_in_users(client, agent):
    page = client.get("/notifications/").content.decode()
    assert f'data-user-id="{agent.pk}"' in page and 'data-ws-url="/ws/staff/"' in page
    assert "js/realtime.js" in page


def test_matrix_rows_are_well_formed():
    roles = {"Admin", "Manager", "Agent", "Viewer", "anonymous"}
    for row in ROWS:
        assert set(row["expect"]) == roles
        assert row["method"] in {"GET", "POST"}


def test_members_of_private_channel_see_it(client, agent):
    secret = ChannelFactory(slug="secret", kind=ChannelKind.PRIVATE)
    ChannelMemberFactory(channel=secret, user=agent)
    assert client.get("/chat/secret/").status_code == 200
