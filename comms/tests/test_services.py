from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from comms import live, selectors, services
from comms.markup import render_markup
from comms.models import (
    Channel,
    ChannelKind,
    ChannelMember,
    Mention,
    Notification,
    StaffPresence,
)
from comms.tests.factories import ChannelFactory, ChannelMemberFactory, ChannelMessageFactory
from core.errors import ApplicationError, Conflict, NotFound, PermissionDenied

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT, username="ana")


@pytest.fixture
def general():
    return Channel.objects.get(slug="general")


def test_markup_renders_links_code_bold_and_escapes_html():
    html = render_markup("**hi** `<b>` https://x.test/a?b=1 <script>alert(1)</script>\nnext")
    assert "<strong>hi</strong>" in html
    assert "<code>&lt;b&gt;</code>" in html
    assert '<a href="https://x.test/a?b=1"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<br>" in html


def test_markup_does_not_link_javascript_urls():
    assert "<a" not in render_markup("javascript:alert(1)")


def test_post_message_broadcasts_after_commit(
    agent, general, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(live, "group_send", lambda group, event: sent.append((group, event)))
    with django_capture_on_commit_callbacks(execute=True):
        message = services.post_message(channel=general, author=agent, body="hello **team**")
    assert message.body_html == "hello <strong>team</strong>"
    assert sent == [
        (
            "channel.general",
            {
                "type": "message",
                "channel": "general",
                "message": live.serialize_message(message),
            },
        )
    ]
    assert ChannelMember.objects.get(channel=general, user=agent).last_read_at == message.created_at


def test_viewer_cannot_post(general):
    viewer = UserFactory(role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        services.post_message(channel=general, author=viewer, body="hi")


def test_empty_and_archived_are_refused(agent, general):
    with pytest.raises(ApplicationError):
        services.post_message(channel=general, author=agent, body="   ")
    general.is_archived = True
    general.save()
    with pytest.raises(Conflict):
        services.post_message(channel=general, author=agent, body="hi")


def test_private_channel_needs_membership_to_post(agent):
    secret = ChannelFactory(kind=ChannelKind.PRIVATE)
    with pytest.raises(NotFound):
        services.post_message(channel=secret, author=agent, body="hi")


def test_mentions_create_mention_and_notification(agent, general):
    bob = UserFactory(role=Role.AGENT, username="bob")
    viewer = UserFactory(role=Role.VIEWER, username="vic")
    ChannelMemberFactory(channel=general, user=viewer)
    message = services.post_message(channel=general, author=agent, body="@bob look, and @channel")
    mentioned = set(
        Mention.objects.filter(message=message).values_list("mentioned_user__username", flat=True)
    )
    assert mentioned == {"bob", "vic"}
    assert Notification.objects.get(recipient=bob).url == f"/chat/general/#message-{message.pk}"
    assert not Notification.objects.filter(recipient=agent).exists()
    assert '<span class="mention">@bob</span>' in message.body_html


def test_mentions_skip_people_who_cannot_see_private_channel(agent):
    secret = ChannelFactory(kind=ChannelKind.PRIVATE)
    ChannelMemberFactory(channel=secret, user=agent)
    UserFactory(role=Role.AGENT, username="outsider")
    services.post_message(channel=secret, author=agent, body="@outsider psst")
    assert not Mention.objects.exists()


def test_thread_replies_count(agent, general):
    root = services.post_message(channel=general, author=agent, body="root")
    services.post_message(channel=general, author=agent, body="r1", thread_root_id=root.pk)
    reply = services.post_message(channel=general, author=agent, body="r2", thread_root_id=root.pk)
    root.refresh_from_db()
    assert root.thread_root.reply_count == 2
    assert reply.thread.root_message_id == root.pk
    assert [m.body for m in selectors.list_thread_replies(root=root)] == ["r1", "r2"]
    with pytest.raises(NotFound):
        services.post_message(channel=general, author=agent, body="x", thread_root_id=reply.pk)


def test_edit_and_delete_own_message_only(agent, general):
    bob = UserFactory(role=Role.AGENT)
    message = services.post_message(channel=general, author=agent, body="typo")
    with pytest.raises(PermissionDenied):
        services.edit_message(message_id=message.pk, user=bob, body="hacked")
    edited = services.edit_message(message_id=message.pk, user=agent, body="fixed")
    assert edited.body == "fixed" and edited.edited_at is not None
    with pytest.raises(PermissionDenied):
        services.delete_message(message_id=message.pk, user=bob)
    deleted = services.delete_message(message_id=message.pk, user=agent)
    assert live.serialize_message(deleted)["is_deleted"] is True
    assert live.serialize_message(deleted)["body"] == ""
    with pytest.raises(NotFound):
        services.edit_message(message_id=message.pk, user=agent, body="again")


def test_unread_counts_in_constant_queries(agent, general, django_assert_num_queries):
    bob = UserFactory(role=Role.AGENT)
    services.join_channel(channel=general, user=agent)
    for _ in range(3):
        ChannelMessageFactory(channel=general, author=bob)
    ChannelMessageFactory(channel=general, author=agent)
    for n in range(3):
        ChannelFactory(slug=f"extra-{n}")
    agent.has_perm("comms.view_channel")  # warm the permission cache: count only the list
    with django_assert_num_queries(1):
        channels = {c.slug: c for c in selectors.list_channels_for_user(user=agent)}
    assert channels["general"].unread_count == 3
    assert channels["general"].is_member
    assert channels["sales"].unread_count == 0 and not channels["sales"].is_member
    assert "managers" not in channels
    services.mark_channel_read(channel=general, user=agent)
    assert selectors.list_channels_for_user(user=agent).get(slug="general").unread_count == 0


def test_join_public_only(agent):
    secret = ChannelFactory(kind=ChannelKind.PRIVATE)
    with pytest.raises(PermissionDenied):
        services.join_channel(channel=secret, user=agent)


def test_manager_creates_archives_and_manages_members(agent):
    manager = UserFactory(role=Role.MANAGER)
    with pytest.raises(PermissionDenied):
        services.create_channel(actor=agent, name="Nope")
    channel = services.create_channel(actor=manager, name="Night Shift", kind=ChannelKind.PRIVATE)
    assert channel.slug == "night-shift"
    assert services.create_channel(actor=manager, name="Night shift").slug == "night-shift-2"
    services.add_channel_member(channel=channel, actor=manager, user=agent)
    assert selectors.can_view_channel(user=agent, channel=channel)
    assert Notification.objects.filter(recipient=agent).exists()
    services.remove_channel_member(channel=channel, actor=manager, user=agent)
    assert not selectors.can_view_channel(user=agent, channel=channel)
    services.set_channel_archived(channel=channel, actor=manager, is_archived=True)
    assert Channel.objects.get(pk=channel.pk).is_archived


def test_direct_channel_is_shared_and_private(agent):
    bob = UserFactory(role=Role.AGENT)
    eve = UserFactory(role=Role.AGENT)
    dm = services.open_direct_channel(user=agent, other=bob)
    assert services.open_direct_channel(user=bob, other=agent) == dm
    assert dm.kind == ChannelKind.DIRECT
    assert not selectors.can_view_channel(user=eve, channel=dm)
    with pytest.raises(ApplicationError):
        services.open_direct_channel(user=agent, other=agent)


def test_search_in_channel(agent, general):
    services.post_message(channel=general, author=agent, body="the Heidelberg press is down")
    services.post_message(channel=general, author=agent, body="lunch?")
    other = ChannelFactory()
    services.post_message(channel=other, author=agent, body="heidelberg elsewhere")
    assert [
        m.body for m in selectors.search_channel_messages(channel=general, query="heidelberg")
    ] == ["the Heidelberg press is down"]


def test_notifications_mark_read(agent):
    first = services.notify_user(recipient=agent, kind="system", title="one")
    services.notify_user(recipient=agent, kind="system", title="two")
    services.mark_notification_read(user=agent, notification_id=first.pk)
    assert selectors.count_unread_notifications(user=agent) == 1
    with pytest.raises(NotFound):
        services.mark_notification_read(user=UserFactory(), notification_id=first.pk)
    assert services.mark_all_notifications_read(user=agent) == 1
    assert selectors.count_unread_notifications(user=agent) == 0


def test_presence_status_validation(agent):
    with pytest.raises(ApplicationError):
        services.set_presence_status(user=agent, status="offline")
    change = services.set_presence_status(user=agent, status="away")
    assert change.as_event()["status"] == "away"
    assert services.set_presence_status(user=agent, status="away") is None


def test_the_last_socket_closing_leaves_the_user_online_until_the_grace_settles(agent):
    assert services.register_connection(user=agent, channel_name="tab-1").status == "online"
    services.register_connection(user=agent, channel_name="tab-2")
    assert services.unregister_connection(channel_name="tab-1") is None  # another tab is open
    assert services.unregister_connection(channel_name="tab-2") == agent.pk
    assert StaffPresence.objects.get(user=agent).status == "online"
    # A socket reopened within the grace: still online, and nothing to announce either way.
    assert services.register_connection(user=agent, channel_name="tab-3") is None
    assert services.settle_offline(user_id=agent.pk) is None
    assert services.unregister_connection(channel_name="tab-3") == agent.pk
    change = services.settle_offline(user_id=agent.pk)
    assert change.as_event()["status"] == "offline"
    assert services.settle_offline(user_id=agent.pk) is None  # announced once


def test_the_sweep_leaves_a_user_within_the_grace_to_their_process(agent, settings):
    settings.PRESENCE_OFFLINE_GRACE_SECONDS = 5.0
    services.register_connection(user=agent, channel_name="tab-1")
    services.unregister_connection(channel_name="tab-1")
    assert services.expire_stale_connections() == []
    # That process died before settling: the sweep announces it once the grace is over.
    later = timezone.now() + timedelta(seconds=6)
    assert [c.user_id for c in services.expire_stale_connections(now=later)] == [agent.pk]
    assert StaffPresence.objects.get(user=agent).status == "offline"


def test_managers_see_private_channels_but_not_direct_messages(agent):
    manager = UserFactory(role=Role.MANAGER)
    dm = services.open_direct_channel(user=agent, other=UserFactory(role=Role.AGENT))
    slugs = set(selectors.list_channels_for_user(user=manager).values_list("slug", flat=True))
    assert "managers" in slugs and dm.slug not in slugs
    assert selectors.can_view_channel(user=manager, channel=Channel.objects.get(slug="managers"))
    assert not selectors.can_view_channel(user=manager, channel=dm)
    assert "managers" not in set(
        selectors.list_channels_for_user(user=agent).values_list("slug", flat=True)
    )
