"""A proof on a web chat, live: the visitor's widget socket gets the card when it is sent, the
decided card when they approve in the widget, and the agent's socket on the ticket hears of it."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import Role
from accounts.tests.factories import UserFactory
from comms.consumers import StaffConsumer
from helpdesk.asgi import application
from integrations.tests.factories import WebChatInboxFactory
from integrations.webchat import services as webchat
from integrations.webchat.identity import new_visitor_token
from printshop import services
from printshop.tests.factories import make_image

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.anyio]

TIMEOUT = 3
ORIGIN = "https://shop.example.com"


async def next_frame(communicator, kind: str) -> dict:
    frame = await communicator.receive_json_from(timeout=TIMEOUT)
    while frame["type"] != kind:
        frame = await communicator.receive_json_from(timeout=TIMEOUT)
    return frame


def start_chat_and_agent():
    inbox = WebChatInboxFactory()
    visitor_id, token = new_visitor_token(inbox=inbox)
    message = webchat.post_visitor_message(
        visitor=webchat.Visitor(inbox=inbox, visitor_id=visitor_id, name="Jo"),
        body="Here is my logo.",
        client_message_id="c1",
    )
    return inbox, token, message.ticket, UserFactory(role=Role.AGENT, first_name="Ana")


def send_proof(ticket, agent):
    draft = services.create_proof_from_upload(
        ticket=ticket,
        actor=agent,
        upload=SimpleUploadedFile("logo.png", make_image(width=60, height=40)),
        target=services.ProofTarget(),
    )
    return services.send_proof(proof=draft, actor=agent)


async def test_the_card_arrives_live_and_the_decision_reaches_the_agent():
    inbox, token, ticket, agent = await database_sync_to_async(start_chat_and_agent)()
    visitor = WebsocketCommunicator(
        application, f"/ws/widget/?inbox={inbox.key}", headers=[(b"origin", ORIGIN.encode())]
    )
    assert (await visitor.connect(timeout=TIMEOUT))[0]
    await visitor.send_json_to({"type": "auth", "token": token})
    await next_frame(visitor, "ready")
    staff = WebsocketCommunicator(StaffConsumer.as_asgi(), "/ws/staff/")
    staff.scope["user"] = agent
    assert (await staff.connect(timeout=TIMEOUT))[0]
    await staff.send_json_to({"type": "subscribe", "ticket": ticket.reference})
    await next_frame(staff, "subscribed")

    proof = await database_sync_to_async(send_proof)(ticket, agent)
    # The card and the proof's message, in whichever order the delivery task and commit run.
    frames = {}
    while len(frames) < 2:
        frame = await visitor.receive_json_from(timeout=TIMEOUT)
        if frame["type"] in ("proof", "message"):
            frames[frame["type"]] = frame[frame["type"]]
    card = frames["proof"]
    assert (card["id"], card["version"], card["state"]) == (proof.pk, 1, "pending")
    assert frames["message"]["id"] == card["message_id"]

    response = await sync_to_async(Client().post)(
        f"/widget/{inbox.key}/proofs/{proof.pk}/decision/",
        data=json.dumps({"decision": "approved"}),
        content_type="application/json",
        HTTP_ORIGIN=ORIGIN,
        HTTP_X_WIDGET_TOKEN=token,
    )
    assert response.status_code == 200
    decided = (await next_frame(visitor, "proof"))["proof"]
    assert (decided["id"], decided["state"]) == (proof.pk, "approved")
    updated = await next_frame(staff, "ticket.updated")
    assert updated["ticket"]["reference"] == ticket.reference
    await visitor.disconnect()
    await staff.disconnect()
