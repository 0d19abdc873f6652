"""The visitors' socket (/ws/widget/): origin and flood refusals, live replies, typing both ways,
the rating prompt of a solved chat."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.models import Role
from accounts.tests.factories import UserFactory
from analytics.models import CustomerSatisfaction
from analytics.services import answer_csat_survey
from comms.consumers import StaffConsumer
from helpdesk.asgi import application
from integrations.tests.factories import WebChatInboxFactory
from integrations.webchat import services
from integrations.webchat.identity import new_visitor_token
from tickets.models import DeliveryStatus, TicketMessage, TicketStatus
from tickets.services import change_status, reply_to_ticket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.anyio]

TIMEOUT = 3
ORIGIN = b"https://shop.example.com"


def widget_socket(inbox, origin=ORIGIN) -> WebsocketCommunicator:
    return WebsocketCommunicator(
        application, f"/ws/widget/?inbox={inbox.key}", headers=[(b"origin", origin)]
    )


async def next_frame(communicator, kind: str) -> dict:
    frame = await communicator.receive_json_from(timeout=TIMEOUT)
    while frame["type"] != kind:
        frame = await communicator.receive_json_from(timeout=TIMEOUT)
    return frame


def start_conversation():
    inbox = WebChatInboxFactory()
    visitor_id, token = new_visitor_token(inbox=inbox)
    message = services.post_visitor_message(
        visitor=services.Visitor(inbox=inbox, visitor_id=visitor_id, name="Jo"),
        body="Is my banner ready?",
        client_message_id="c1",
    )
    return inbox, token, message.ticket


async def test_a_foreign_origin_and_an_unknown_inbox_are_refused():
    inbox = await database_sync_to_async(WebChatInboxFactory)()
    for communicator in (
        widget_socket(inbox, origin=b"https://evil.example"),
        widget_socket(inbox, origin=b""),
        WebsocketCommunicator(
            application, "/ws/widget/?inbox=missing", headers=[(b"origin", ORIGIN)]
        ),
    ):
        connected, code = await communicator.connect(timeout=TIMEOUT)
        assert not connected
        assert code == 4403


async def test_a_flood_of_frames_closes_the_socket(settings):
    settings.WEBCHAT_SOCKET_FRAME_RATE = (1.0, 3)
    inbox = await database_sync_to_async(WebChatInboxFactory)()
    communicator = widget_socket(inbox)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    for _ in range(4):
        await communicator.send_json_to({"type": "typing", "is_typing": True})
    frame = await next_frame(communicator, "error")
    while frame["code"] != "rate_limited":
        frame = await next_frame(communicator, "error")
    assert (await communicator.receive_output(timeout=TIMEOUT))["type"] == "websocket.close"


async def test_connections_from_one_address_are_limited(settings):
    settings.WEBCHAT_IP_RATE = "2/minute"
    inbox = await database_sync_to_async(WebChatInboxFactory)()
    results = []
    for _ in range(3):
        communicator = widget_socket(inbox)
        connected, code = await communicator.connect(timeout=TIMEOUT)
        results.append(connected or code)
        if connected:
            await communicator.disconnect()
    assert results == [True, True, 4429]


async def test_a_bad_token_closes_the_socket():
    inbox = await database_sync_to_async(WebChatInboxFactory)()
    communicator = widget_socket(inbox)
    await communicator.connect(timeout=TIMEOUT)
    await communicator.send_json_to({"type": "typing", "is_typing": True})
    assert (await next_frame(communicator, "error"))["code"] == "not_authenticated"
    await communicator.send_json_to({"type": "auth", "token": "forged"})
    assert (await next_frame(communicator, "error"))["code"] == "invalid_widget_token"


async def test_agent_reply_and_typing_reach_the_visitor_and_visitor_typing_reaches_staff():
    inbox, token, ticket = await database_sync_to_async(start_conversation)()
    agent = await database_sync_to_async(UserFactory)(role=Role.AGENT, first_name="Ana")
    visitor = widget_socket(inbox)
    assert (await visitor.connect(timeout=TIMEOUT))[0]
    await visitor.send_json_to({"type": "auth", "token": token})
    await next_frame(visitor, "ready")

    staff = WebsocketCommunicator(StaffConsumer.as_asgi(), "/ws/staff/")
    staff.scope["user"] = agent
    assert (await staff.connect(timeout=TIMEOUT))[0]
    await staff.send_json_to({"type": "subscribe", "ticket": ticket.reference})
    await next_frame(staff, "subscribed")

    await staff.send_json_to({"type": "typing", "ticket": ticket.reference, "is_typing": True})
    assert await next_frame(visitor, "typing") == {
        "type": "typing",
        "is_typing": True,
        "name": "Ana",
    }

    await visitor.send_json_to({"type": "typing", "is_typing": True})
    typing = await next_frame(staff, "typing")
    assert typing["ticket"] == ticket.reference and typing["user"]["name"] == "Jo"

    reply = await database_sync_to_async(reply_to_ticket)(
        ticket=ticket, author=agent, body="Yes, it ships today."
    )
    frame = await next_frame(visitor, "message")
    assert frame["message"]["body"] == "Yes, it ships today."
    assert frame["message"]["author"] == "Ana"
    await visitor.send_json_to({"type": "receipt", "message_id": reply.pk, "status": "read"})
    await visitor.receive_nothing(timeout=0.3)
    status = await database_sync_to_async(
        lambda: TicketMessage.objects.get(pk=reply.pk).delivery_status
    )()
    assert status == DeliveryStatus.READ
    await visitor.disconnect()
    await staff.disconnect()


async def test_a_solved_chat_asks_for_its_rating_live_and_an_answer_anywhere_thanks():
    inbox, token, ticket = await database_sync_to_async(start_conversation)()
    agent = await database_sync_to_async(UserFactory)(role=Role.AGENT, first_name="Ana")
    visitor = widget_socket(inbox)
    assert (await visitor.connect(timeout=TIMEOUT))[0]
    await visitor.send_json_to({"type": "auth", "token": token})
    await next_frame(visitor, "ready")

    def solve():
        # The survey is scheduled on commit; the immediate task backend sends it at once.
        change_status(ticket=ticket, actor=agent, status=TicketStatus.SOLVED)
        return CustomerSatisfaction.objects.get(ticket=ticket)

    survey = await database_sync_to_async(solve)()
    prompt = (await next_frame(visitor, "csat"))["survey"]
    assert (prompt["id"], prompt["state"]) == (survey.pk, "open")
    # Answered on the emailed public page (or another tab): the widget says thanks.
    await database_sync_to_async(answer_csat_survey)(token=survey.token, rating=5)
    thanks = (await next_frame(visitor, "csat"))["survey"]
    assert (thanks["state"], thanks["rating"]) == ("answered", 5)
    await visitor.disconnect()
