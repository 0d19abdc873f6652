"""Ending a session closes its live WebSocket (and deactivation closes every socket)."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from accounts import services, user_sessions
from accounts.models import Role, UserSession
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from helpdesk.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.anyio]

TIMEOUT = 3


@pytest.fixture
def anyio_backend():
    return "asyncio"


def sign_in(username: str, user_agent: str) -> Client:
    client = Client(HTTP_USER_AGENT=user_agent)
    response = client.post("/accounts/login/", {"username": username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return client


async def open_socket(client: Client) -> WebsocketCommunicator:
    """The real stack (origin check, session cookie auth) as a browser tab would connect."""
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    communicator = WebsocketCommunicator(
        application,
        "/ws/staff/",
        headers=[(b"cookie", cookie.encode()), (b"origin", b"http://testserver")],
    )
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def closed_with(communicator: WebsocketCommunicator) -> int | None:
    """Skip frames (presence) until the server closes the socket; its close code."""
    while True:
        output = await communicator.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            return output.get("code")


async def test_signing_a_session_out_closes_its_socket_only():
    user = await sync_to_async(UserFactory)(username="alex", role=Role.AGENT)
    laptop = await sync_to_async(sign_in)("alex", "Firefox/140.0 (Windows)")
    phone = await sync_to_async(sign_in)("alex", "Mobile Safari (iPhone)")
    laptop_socket = await open_socket(laptop)
    phone_socket = await open_socket(phone)

    phone_key = phone.cookies[settings.SESSION_COOKIE_NAME].value
    row = await UserSession.objects.aget(session_key=phone_key)
    await sync_to_async(user_sessions.end_session)(actor=user, user_session=row)

    assert await closed_with(phone_socket) == 4401
    await laptop_socket.send_json_to({"type": "presence", "status": "busy"})
    frame = await laptop_socket.receive_json_from(timeout=TIMEOUT)
    assert frame["type"] == "presence"  # the other tab's socket is still open
    await laptop_socket.disconnect()


async def test_deactivation_closes_every_socket_of_the_member():
    member = await sync_to_async(UserFactory)(username="alex", role=Role.AGENT)
    manager = await sync_to_async(UserFactory)(username="mona", role=Role.MANAGER)
    laptop = await sync_to_async(sign_in)("alex", "Firefox/140.0 (Windows)")
    socket = await open_socket(laptop)

    await sync_to_async(services.set_staff_active)(actor=manager, member=member, is_active=False)

    assert await closed_with(socket) == 4401
