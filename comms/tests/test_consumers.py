"""The staff socket: every frame type, refusals, malformed input, presence and typing."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from accounts.models import Role
from accounts.tests.factories import UserFactory
from comms.consumers import StaffConsumer
from comms.models import ChannelKind, PresenceConnection, StaffPresence
from comms.services import notify_user
from comms.tests.factories import ChannelFactory, ChannelMemberFactory
from core.realtime import INBOX_GROUP, group_send
from tickets.tests.factories import TicketFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.anyio]


TIMEOUT = 2


async def open_socket(user, *, drain_presence: bool = True) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(StaffConsumer.as_asgi(), "/ws/staff/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    if drain_presence:
        await drain(communicator)
    return communicator


async def drain(communicator: WebsocketCommunicator) -> list[dict]:
    frames = []
    while not await communicator.receive_nothing(timeout=0.05):
        frames.append(await communicator.receive_json_from(timeout=TIMEOUT))
    return frames


async def receive(communicator: WebsocketCommunicator) -> dict:
    return await communicator.receive_json_from(timeout=TIMEOUT)


async def receive_skipping_presence(communicator: WebsocketCommunicator) -> dict:
    """Sockets of other tests may still be announcing themselves on the shared layer."""
    frame = await receive(communicator)
    while frame["type"] == "presence":
        frame = await receive(communicator)
    return frame


async def subscribe(communicator: WebsocketCommunicator, **target: str) -> None:
    await communicator.send_json_to({"type": "subscribe", **target})
    assert await receive_skipping_presence(communicator) == {"type": "subscribed", **target}


def make_user(role: str = Role.AGENT, **kwargs):
    return UserFactory(role=role, **kwargs)


async def status_of(user) -> str:
    presence = await database_sync_to_async(StaffPresence.objects.get)(user=user)
    return presence.status


async def test_anonymous_and_inactive_users_are_refused():
    inactive = await database_sync_to_async(make_user)(is_active=False)
    for user in (AnonymousUser(), inactive):
        communicator = WebsocketCommunicator(StaffConsumer.as_asgi(), "/ws/staff/")
        communicator.scope["user"] = user
        connected, _ = await communicator.connect(timeout=TIMEOUT)
        assert not connected


async def test_session_cookie_authenticates_through_the_asgi_stack(client):
    from helpdesk.asgi import application

    user = await database_sync_to_async(make_user)()
    await sync_to_async(client.force_login)(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    communicator = WebsocketCommunicator(
        application, "/ws/staff/", headers=[(b"cookie", cookie), (b"origin", b"http://localhost")]
    )
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    assert (await receive(communicator))["user"]["id"] == user.pk
    await communicator.disconnect()


BAD_FRAMES = [
    ("{not json", "malformed_json"),
    ("[1, 2]", "invalid_frame"),
    ('{"type": "dance"}', "unknown_type"),
    ('{"no": "type"}', "unknown_type"),
    ('{"type": "subscribe"}', "invalid_frame"),
    ('{"type": "subscribe", "channel": "general", "ticket": "PD-1"}', "invalid_frame"),
    ('{"type": "subscribe", "channel": 7}', "invalid_frame"),
    ('{"type": "subscribe", "channel": "nope"}', "subscribe_refused"),
    ('{"type": "typing", "channel": "general", "is_typing": "yes"}', "invalid_frame"),
    ('{"type": "typing", "channel": "general", "is_typing": true}', "not_subscribed"),
    ('{"type": "presence", "status": "offline"}', "invalid_frame"),
]


async def test_bad_frames_get_an_error_and_the_socket_stays_open():
    user = await database_sync_to_async(make_user)()
    communicator = await open_socket(user)
    for raw, code in BAD_FRAMES:
        await communicator.send_to(text_data=raw)
        frame = await receive_skipping_presence(communicator)
        assert (frame["type"], frame["code"]) == ("error", code), raw
        assert frame["detail"]
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert (await receive_skipping_presence(communicator))["code"] == "invalid_frame"
    # Still open and serving.
    await subscribe(communicator, channel="general")
    await communicator.disconnect()


async def test_subscribe_to_private_channel_requires_membership():
    outsider, member = await database_sync_to_async(lambda: (make_user(), make_user()))()
    channel = await database_sync_to_async(ChannelFactory)(slug="secret", kind=ChannelKind.PRIVATE)
    await database_sync_to_async(ChannelMemberFactory)(channel=channel, user=member)
    refused = await open_socket(outsider)
    await refused.send_json_to({"type": "subscribe", "channel": "secret"})
    frame = await receive_skipping_presence(refused)
    assert frame["type"] == "error" and frame["code"] == "subscribe_refused"
    allowed = await open_socket(member)
    await subscribe(allowed, channel="secret")
    await refused.disconnect()
    await allowed.disconnect()


async def test_subscribe_to_ticket_checks_view_permission_and_existence():
    agent, nobody = await database_sync_to_async(lambda: (make_user(), UserFactory()))()
    ticket = await database_sync_to_async(TicketFactory)()
    no_role = await open_socket(nobody)
    await no_role.send_json_to({"type": "subscribe", "ticket": ticket.reference})
    assert (await receive_skipping_presence(no_role))["code"] == "subscribe_refused"
    communicator = await open_socket(agent)
    await communicator.send_json_to({"type": "subscribe", "ticket": "PD-999999"})
    assert (await receive_skipping_presence(communicator))["code"] == "subscribe_refused"
    await subscribe(communicator, ticket=ticket.reference)
    await no_role.disconnect()
    await communicator.disconnect()


async def test_ticket_updated_reaches_ticket_subscribers_and_inbox():
    agent, viewer_without_tickets = await database_sync_to_async(
        lambda: (make_user(), UserFactory())
    )()
    ticket = await database_sync_to_async(TicketFactory)()
    watcher = await open_socket(agent)
    await subscribe(watcher, ticket=ticket.reference)
    bystander = await open_socket(viewer_without_tickets)
    await drain(watcher)
    event = {"type": "ticket.updated", "ticket": {"reference": ticket.reference}}
    await sync_to_async(group_send)(f"ticket.{ticket.reference}", event)
    assert await receive(watcher) == event
    await sync_to_async(group_send)(INBOX_GROUP, event)
    assert await receive(watcher) == event
    assert await bystander.receive_nothing(timeout=0.1)
    await watcher.disconnect()
    await bystander.disconnect()


async def test_notification_reaches_only_the_recipient():
    ana, bob = await database_sync_to_async(lambda: (make_user(), make_user()))()
    ana_socket = await open_socket(ana)
    bob_socket = await open_socket(bob)
    await drain(ana_socket)

    def notify():
        from django.db import transaction

        with transaction.atomic():
            notify_user(recipient=ana, kind="system", title="Hello")

    await database_sync_to_async(notify)()
    frame = await receive(ana_socket)
    assert frame["type"] == "notification"
    assert frame["notification"]["title"] == "Hello"
    assert await bob_socket.receive_nothing(timeout=0.1)
    await ana_socket.disconnect()
    await bob_socket.disconnect()


async def test_posted_message_reaches_channel_subscribers():
    from comms.models import Channel
    from comms.services import post_message

    ana, bob = await database_sync_to_async(lambda: (make_user(), make_user()))()
    bob_socket = await open_socket(bob)
    await subscribe(bob_socket, channel="general")
    general = await database_sync_to_async(Channel.objects.get)(slug="general")
    await database_sync_to_async(post_message)(channel=general, author=ana, body="Hi **all**")
    frame = await receive(bob_socket)
    assert frame["type"] == "message"
    assert frame["channel"] == "general"
    assert frame["message"]["body_html"] == "Hi <strong>all</strong>"
    assert frame["message"]["author"]["username"] == ana.username
    await bob_socket.disconnect()


async def test_typing_relays_to_others_not_the_sender_and_stops():
    ana, bob = await database_sync_to_async(lambda: (make_user(), make_user()))()
    ana_socket = await open_socket(ana)
    bob_socket = await open_socket(bob)
    await drain(ana_socket)
    await subscribe(ana_socket, channel="general")
    await subscribe(bob_socket, channel="general")
    await ana_socket.send_json_to({"type": "typing", "channel": "general", "is_typing": True})
    frame = await receive(bob_socket)
    assert frame == {
        "type": "typing",
        "channel": "general",
        "user": {"id": ana.pk, "username": ana.username, "name": ana.short_name},
        "is_typing": True,
    }
    assert await ana_socket.receive_nothing(timeout=0.1)
    await ana_socket.send_json_to({"type": "typing", "channel": "general", "is_typing": False})
    assert (await receive(bob_socket))["is_typing"] is False
    await ana_socket.disconnect()
    await bob_socket.disconnect()


async def test_typing_expires_without_a_stop_frame(settings):
    settings.TYPING_TTL_SECONDS = 0.3
    ana, bob = await database_sync_to_async(lambda: (make_user(), make_user()))()
    ticket = await database_sync_to_async(TicketFactory)()
    ana_socket = await open_socket(ana)
    bob_socket = await open_socket(bob)
    await subscribe(ana_socket, ticket=ticket.reference)
    await subscribe(bob_socket, ticket=ticket.reference)
    await ana_socket.send_json_to({"type": "typing", "ticket": ticket.reference, "is_typing": True})
    assert (await receive(bob_socket))["is_typing"] is True
    await asyncio.sleep(0.15)
    # A keep-alive pushes the expiry back.
    await ana_socket.send_json_to({"type": "typing", "ticket": ticket.reference, "is_typing": True})
    assert (await receive(bob_socket))["is_typing"] is True
    assert await bob_socket.receive_nothing(timeout=0.2)
    expired = await receive(bob_socket)
    assert expired["is_typing"] is False
    assert expired["ticket"] == ticket.reference
    assert expired["user"]["id"] == ana.pk
    await ana_socket.disconnect()
    await bob_socket.disconnect()


async def test_presence_counts_every_tab(settings):
    settings.PRESENCE_OFFLINE_GRACE_SECONDS = 0.1
    ana, bob = await database_sync_to_async(lambda: (make_user(), make_user()))()
    watcher = await open_socket(bob)
    first_tab = await open_socket(ana)
    online = await receive(watcher)
    assert online == {
        "type": "presence",
        "user": {"id": ana.pk, "username": ana.username},
        "status": "online",
    }
    second_tab = await open_socket(ana)
    assert await watcher.receive_nothing(timeout=0.1)
    await first_tab.disconnect()
    assert await watcher.receive_nothing(timeout=0.1)
    assert await status_of(ana) == "online"
    await second_tab.disconnect()
    assert (await receive(watcher))["status"] == "offline"
    assert await status_of(ana) == "offline"
    await watcher.disconnect()


async def test_a_page_load_within_the_grace_announces_nothing(settings):
    # Each page load closes the staff socket and opens the next page's: no offline/online pair
    # to every staff socket for it (bench/README.md, "Fan-out at 1,000").
    settings.PRESENCE_OFFLINE_GRACE_SECONDS = 0.4
    ana, bob = await database_sync_to_async(lambda: (make_user(), make_user()))()
    watcher = await open_socket(bob)
    page = await open_socket(ana)
    assert (await receive(watcher))["status"] == "online"
    await page.disconnect()
    next_page = await open_socket(ana)
    assert await watcher.receive_nothing(timeout=0.6)
    assert await status_of(ana) == "online"
    # Closing for good: offline once the grace is over, not before.
    await next_page.disconnect()
    assert await watcher.receive_nothing(timeout=0.2)
    assert await status_of(ana) == "online"
    offline = await receive(watcher)
    assert offline["user"]["id"] == ana.pk and offline["status"] == "offline"
    assert await status_of(ana) == "offline"
    await watcher.disconnect()


async def test_presence_status_frame_is_broadcast():
    ana, bob = await database_sync_to_async(lambda: (make_user(), make_user()))()
    watcher = await open_socket(bob)
    ana_socket = await open_socket(ana)
    await drain(watcher)
    await ana_socket.send_json_to({"type": "presence", "status": "busy"})
    frame = await receive(watcher)
    assert frame["status"] == "busy" and frame["user"]["id"] == ana.pk
    assert await status_of(ana) == "busy"
    await ana_socket.disconnect()
    await watcher.disconnect()


async def test_heartbeat_sweeps_sockets_of_a_dead_process(settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = 0.1
    settings.PRESENCE_TIMEOUT_SECONDS = 0.3
    ana, bob = await database_sync_to_async(lambda: (make_user(), make_user()))()

    def ghost_online():
        # A socket of a process that died: its row stops being heartbeated.
        from comms.services import register_connection

        register_connection(user=ana, channel_name="dead-process!abc")

    await database_sync_to_async(ghost_online)()
    watcher = await open_socket(bob)
    frame = await receive(watcher)
    assert frame["user"]["id"] == ana.pk and frame["status"] == "offline"
    assert await status_of(bob) == "online"
    assert not await database_sync_to_async(PresenceConnection.objects.filter(user=ana).exists)()
    await watcher.disconnect()
