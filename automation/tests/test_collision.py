"""Collision detection: viewing frames over the socket, and the reply-collision check."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.models import Role
from accounts.tests.factories import UserFactory
from comms.consumers import StaffConsumer
from core.errors import Conflict
from tickets.models import TicketMessage
from tickets.policy import check_reply_collision
from tickets.tests.factories import OutboundMessageFactory, TicketFactory, TicketMessageFactory


async def connect(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(StaffConsumer.as_asgi(), "/ws/staff/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def view(communicator, ref: str) -> None:
    """What the ticket page does: subscribe, then announce viewing (collision.js)."""
    await communicator.send_json_to({"type": "subscribe", "ticket": ref})
    await frames_until(communicator, "subscribed")
    await communicator.send_json_to({"type": "viewing", "ticket": ref})


async def frames_until(communicator, frame_type: str, *, limit: int = 10) -> dict:
    for _ in range(limit):
        frame = await communicator.receive_json_from(timeout=2)
        if frame["type"] == frame_type:
            return frame
    raise AssertionError(f"no {frame_type} frame")


@pytest.mark.django_db(transaction=True)
@pytest.mark.anyio
async def test_two_agents_on_one_ticket_see_each_other_and_typing():
    ana = await sync_to_async(UserFactory)(username="ana", role=Role.AGENT)
    ben = await sync_to_async(UserFactory)(username="ben", role=Role.AGENT)
    ticket = await sync_to_async(TicketFactory)()
    ref = ticket.reference

    first = await connect(ana)
    await view(first, ref)
    frame = await frames_until(first, "viewing")
    assert [v["username"] for v in frame["viewers"]] == ["ana"]

    second = await connect(ben)
    await view(second, ref)
    for communicator in (first, second):
        frame = await frames_until(communicator, "viewing")
        assert frame["ticket"] == ref
        assert [v["username"] for v in frame["viewers"]] == ["ana", "ben"]

    await second.send_json_to({"type": "typing", "ticket": ref, "is_typing": True})
    typing = await frames_until(first, "typing")
    assert (typing["ticket"], typing["user"]["username"], typing["is_typing"]) == (ref, "ben", True)

    await second.disconnect()
    frame = await frames_until(first, "viewing")
    assert [v["username"] for v in frame["viewers"]] == ["ana"]
    await first.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.anyio
async def test_unsubscribing_leaves_the_viewers():
    ana = await sync_to_async(UserFactory)(username="ana", role=Role.AGENT)
    ben = await sync_to_async(UserFactory)(username="ben", role=Role.AGENT)
    ref = (await sync_to_async(TicketFactory)()).reference
    first, second = await connect(ana), await connect(ben)
    for communicator in (first, second):
        await view(communicator, ref)
    await frames_until(first, "viewing")
    await frames_until(first, "viewing")
    await second.send_json_to({"type": "unsubscribe", "ticket": ref})
    frame = await frames_until(first, "viewing")
    assert [v["username"] for v in frame["viewers"]] == ["ana"]
    await first.disconnect()
    await second.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.anyio
async def test_viewing_needs_a_ticket_subscription():
    ana = await sync_to_async(UserFactory)(username="ana", role=Role.AGENT)
    ref = (await sync_to_async(TicketFactory)()).reference
    socket = await connect(ana)
    await socket.send_json_to({"type": "viewing", "ticket": ref})
    error = await frames_until(socket, "error")
    assert error["code"] == "not_subscribed"
    await socket.send_json_to({"type": "viewing", "channel": "general"})
    assert (await frames_until(socket, "error"))["code"] == "invalid_frame"
    await socket.disconnect()


@pytest.mark.django_db
def test_reply_collision_when_someone_else_replied_since():
    ana, ben = UserFactory(role=Role.AGENT), UserFactory(role=Role.AGENT)
    ticket = TicketFactory()
    seen = TicketMessageFactory(ticket=ticket)
    OutboundMessageFactory(ticket=ticket, author=ana)

    check_reply_collision(ticket=ticket, user=ana, last_seen_message_id=seen.pk)  # own reply
    check_reply_collision(ticket=ticket, user=ben, last_seen_message_id=None)  # no marker
    with pytest.raises(Conflict) as caught:
        check_reply_collision(ticket=ticket, user=ben, last_seen_message_id=seen.pk)
    assert caught.value.code == "reply_collision"
    assert str(ana.short_name) in caught.value.message


@pytest.mark.django_db
def test_the_reply_form_warns_before_crossing_a_colleagues_reply(client):
    ana, ben = UserFactory(role=Role.AGENT), UserFactory(role=Role.AGENT)
    ticket = TicketFactory()
    TicketMessageFactory(ticket=ticket)
    client.force_login(ben)
    page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    seen = TicketMessage.objects.get(ticket=ticket).pk
    assert f'name="last_seen_message_id" value="{seen}"' in page
    assert 'data-viewers-for="' in page and "js/collision.js" in page and 'id="ticket-sla"' in page
    OutboundMessageFactory(ticket=ticket, author=ana, body="Already on it")

    form = {"body": "Hello!", "last_seen_message_id": seen}
    response = client.post(f"/tickets/{ticket.reference}/reply/", form)
    assert response.status_code == 409
    html = response.content.decode()
    assert "replied to this customer while you were writing" in html
    assert 'name="confirm_send"' in html and "Hello!" in html
    assert not TicketMessage.objects.filter(body="Hello!").exists()

    response = client.post(f"/tickets/{ticket.reference}/reply/", {**form, "confirm_send": "1"})
    assert response.status_code == 302
    assert TicketMessage.objects.filter(body="Hello!", author=ben).exists()


@pytest.mark.django_db
def test_the_api_answers_409_on_a_reply_collision(client):
    ana, ben = UserFactory(role=Role.AGENT), UserFactory(role=Role.AGENT)
    ticket = TicketFactory()
    seen = TicketMessageFactory(ticket=ticket).pk
    OutboundMessageFactory(ticket=ticket, author=ana)
    client.force_login(ben)
    url = f"/api/tickets/{ticket.reference}/messages/"

    response = client.post(
        url, {"body": "Hi", "last_seen_message_id": seen}, content_type="application/json"
    )
    assert response.status_code == 409 and response.json()["code"] == "reply_collision"
    response = client.post(
        url,
        {"body": "Hi", "last_seen_message_id": seen, "confirm_send": True},
        content_type="application/json",
    )
    assert response.status_code == 201
