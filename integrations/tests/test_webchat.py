"""The storefront widget over HTTP: origins, tokens, identity verification, messages through the
tickets services, uploads, delivery to the widget, receipts, and the offline email path."""

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from accounts.tests.factories import UserFactory
from comms.models import PresenceStatus, StaffPresence
from integrations.inbound import InboundMessage, receive_message
from integrations.models import WebChatConversation
from integrations.services import redact_web_conversations
from integrations.tests.factories import WebChatInboxFactory
from integrations.webchat.identity import identity_signature
from tickets.models import (
    ChannelKind,
    DeliveryStatus,
    IdentityKind,
    MessageDirection,
    Ticket,
    TicketMessage,
)
from tickets.services import reply_to_ticket
from tickets.tests.factories import CustomerIdentityFactory, TicketFactory, image_bytes

pytestmark = pytest.mark.django_db

ORIGIN = "https://shop.example.com"


@pytest.fixture
def inbox():
    return WebChatInboxFactory()


def call(client, method, url, *, origin=ORIGIN, token="", **kwargs):
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    if token:
        headers["HTTP_X_WIDGET_TOKEN"] = token
    return getattr(client, method)(url, **headers, **kwargs)


def new_token(client, inbox, **claim) -> str:
    response = call(
        client,
        "post",
        f"/widget/{inbox.key}/session/",
        data=json.dumps(claim),
        content_type="application/json",
    )
    assert response.status_code == 200
    return response.json()["token"]


def send(client, inbox, token, body="Hi, is my banner printed?", **fields):
    data = {"body": body, "client_id": fields.pop("client_id", "c1"), **fields}
    return call(
        client,
        "post",
        f"/widget/{inbox.key}/messages/",
        token=token,
        data=json.dumps(data),
        content_type="application/json",
    )


def test_the_script_is_served_without_a_login(client):
    response = client.get("/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert b"attachShadow" in b"".join(response.streaming_content)


def test_config_answers_a_configured_origin_with_cors_and_refuses_others(client, inbox):
    response = call(client, "get", f"/widget/{inbox.key}/config/")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response.json()["shop_name"] == "Printdesk Prints"
    for origin in ("https://evil.example", "", "null", "https://shop.example.com.evil.test"):
        refused = call(client, "get", f"/widget/{inbox.key}/config/", origin=origin)
        assert refused.status_code == 403
        assert refused.json()["code"] == "origin_refused"
        assert "Access-Control-Allow-Origin" not in refused
    assert call(client, "get", "/widget/nope/config/").status_code == 404


def test_preflight_names_the_token_header(client, inbox):
    response = call(client, "options", f"/widget/{inbox.key}/messages/")
    assert response.status_code == 204
    assert "X-Widget-Token" in response["Access-Control-Allow-Headers"]


def test_wildcard_domains_match_subdomains_only(client):
    inbox = WebChatInboxFactory(allowed_domains="*.myshopify.com")
    assert (
        call(
            client, "get", f"/widget/{inbox.key}/config/", origin="https://a.myshopify.com"
        ).status_code
        == 200
    )
    assert (
        call(
            client, "get", f"/widget/{inbox.key}/config/", origin="https://myshopify.com"
        ).status_code
        == 403
    )


def test_an_anonymous_visitor_opens_a_web_ticket_with_page_and_cart(client, inbox):
    token = new_token(client, inbox)
    cart = {
        "currency": "GBP",
        "item_count": 2,
        "total_price": 2400,
        "items": [{"title": "Vinyl banner", "quantity": 2, "sku": "BAN-1", "line_price": 2400}],
    }
    response = send(
        client,
        inbox,
        token,
        page_url="https://shop.example.com/products/banner",
        cart=cart,
        order="#1001",
        name="Jo",
    )
    assert response.status_code == 201, response.content
    message = TicketMessage.objects.get()
    assert message.channel == ChannelKind.WEB
    assert message.ticket.channel == ChannelKind.WEB
    assert message.ticket.customer.name == "Jo"
    identity = message.ticket.customer.identities.get()
    assert identity.kind == IdentityKind.WEB
    conversation = WebChatConversation.objects.get()
    assert conversation.cart["items"][0]["title"] == "Vinyl banner"
    assert conversation.order_number == "1001"
    assert "#1001" in message.ticket.subject
    # The same client id again (a retry) stores nothing more; a second message threads.
    assert send(client, inbox, token).status_code == 201
    assert send(client, inbox, token, body="Also: matte?", client_id="c2").status_code == 201
    assert Ticket.objects.count() == 1
    assert TicketMessage.objects.count() == 2


def test_a_forged_token_is_refused(client, inbox):
    other = WebChatInboxFactory()
    for token in ("", "garbage", new_token(client, other)):
        response = send(client, inbox, token)
        assert response.status_code == 401
    assert not TicketMessage.objects.exists()


def test_a_signed_identity_attaches_the_chat_to_the_existing_customer(client, inbox):
    identity = CustomerIdentityFactory(kind=IdentityKind.EMAIL, value="ann@example.com")
    signature = identity_signature(secret=inbox.identity_secret, email="ann@example.com")
    token = new_token(client, inbox, identity_email="ann@example.com", identity_signature=signature)
    response = send(
        client, inbox, token, identity_email="ann@example.com", identity_signature=signature
    )
    assert response.status_code == 201
    assert TicketMessage.objects.get().ticket.customer == identity.customer
    assert WebChatConversation.objects.get().verified_email == "ann@example.com"


@pytest.mark.parametrize(
    "claim",
    [
        {"identity_email": "ann@example.com"},
        {"identity_email": "ann@example.com", "identity_signature": "0" * 64},
        {
            "identity_email": "ann@example.com",
            "identity_signature": identity_signature(
                secret="another-shop", email="ann@example.com"
            ),
        },
        {"email": "ann@example.com"},
    ],
)
def test_an_unsigned_or_forged_claim_never_attaches(client, inbox, claim):
    identity = CustomerIdentityFactory(kind=IdentityKind.EMAIL, value="ann@example.com")
    token = new_token(client, inbox, **claim)
    assert send(client, inbox, token, **claim).status_code == 201
    ticket = TicketMessage.objects.get().ticket
    assert ticket.customer != identity.customer
    assert ticket.customer.identities.get().kind == IdentityKind.WEB


def test_a_png_is_stored_as_an_attachment_and_other_files_are_refused(client, inbox):
    token = new_token(client, inbox)
    png = SimpleUploadedFile("proof.png", image_bytes("PNG"), content_type="image/png")
    response = call(
        client,
        "post",
        f"/widget/{inbox.key}/messages/",
        token=token,
        data={"body": "", "client_id": "f1", "file": png},
    )
    assert response.status_code == 201, response.content
    attachment = TicketMessage.objects.get().attachments.get()
    assert attachment.content_type == "image/png"
    assert response.json()["message"]["attachments"][0]["filename"] == "proof.png"
    html = SimpleUploadedFile("x.png", b"<html><script>alert(1)</script>", content_type="image/png")
    refused = call(
        client,
        "post",
        f"/widget/{inbox.key}/messages/",
        token=token,
        data={"client_id": "f2", "file": html},
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "file_type"


def test_the_visitor_flood_is_refused(client, inbox, settings):
    settings.WEBCHAT_VISITOR_MESSAGE_RATE = "3/minute"
    token = new_token(client, inbox)
    codes = [send(client, inbox, token, client_id=f"m{n}").status_code for n in range(5)]
    assert codes == [201, 201, 201, 429, 429]


def test_the_address_flood_is_refused(client, inbox, settings):
    settings.WEBCHAT_IP_RATE = "2/minute"
    codes = [call(client, "get", f"/widget/{inbox.key}/config/").status_code for _ in range(4)]
    assert codes == [200, 200, 429, 429]


def agent():
    return UserFactory(role=Role.AGENT, first_name="Ana")


def test_an_agent_reply_is_sent_to_the_widget_then_delivered_and_read(
    client, inbox, django_capture_on_commit_callbacks
):
    token = new_token(client, inbox)
    send(client, inbox, token)
    ticket = Ticket.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_to_ticket(ticket=ticket, author=agent(), body="Yes, it ships today.")
    reply.refresh_from_db()
    assert reply.channel == ChannelKind.WEB
    assert reply.delivery_status == DeliveryStatus.SENT
    polled = call(client, "get", f"/widget/{inbox.key}/messages/?after=0", token=token).json()
    assert [m["body"] for m in polled["messages"]] == [
        "Hi, is my banner printed?",
        "Yes, it ships today.",
    ]
    assert polled["messages"][1]["author"] == "Ana"
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.DELIVERED
    response = call(
        client,
        "post",
        f"/widget/{inbox.key}/receipts/",
        token=token,
        data=json.dumps({"message_id": reply.pk, "status": "read"}),
        content_type="application/json",
    )
    assert response.json()["status"] == DeliveryStatus.READ
    # Another visitor never sees this conversation.
    stranger = new_token(client, inbox)
    assert call(client, "get", f"/widget/{inbox.key}/messages/", token=stranger).json() == {
        "messages": []
    }
    response = call(
        client,
        "post",
        f"/widget/{inbox.key}/receipts/",
        token=stranger,
        data=json.dumps({"message_id": reply.pk, "status": "read"}),
        content_type="application/json",
    )
    assert response.status_code == 404


def test_config_says_online_only_within_hours_and_with_someone_online(client, inbox):
    assert call(client, "get", f"/widget/{inbox.key}/config/").json()["online"] is False
    StaffPresence.objects.create(user=agent(), status=PresenceStatus.ONLINE)
    assert call(client, "get", f"/widget/{inbox.key}/config/").json()["online"] is True
    inbox.business_hours = {"mon": ["00:00", "00:01"]}
    inbox.save()
    assert call(client, "get", f"/widget/{inbox.key}/config/").json()["online"] is False


def test_offline_the_widget_needs_an_email_and_the_reply_goes_by_email_and_threads_back(
    client, inbox, django_capture_on_commit_callbacks
):
    token = new_token(client, inbox)
    refused = send(client, inbox, token, offline=True)
    assert refused.status_code == 400
    assert refused.json()["code"] == "email_required"
    assert send(client, inbox, token, offline=True, email="Sam@Example.com").status_code == 201
    # A follow-up while still away needs no email again: the conversation has it.
    assert send(client, inbox, token, offline=True, body="Also", client_id="c2").status_code == 201
    ticket = Ticket.objects.get()
    assert ticket.customer.identities.get().kind == IdentityKind.WEB  # the email never attaches
    with django_capture_on_commit_callbacks(execute=True):
        reply = reply_to_ticket(ticket=ticket, author=agent(), body="We reopened at 9: it's ready.")
    reply.refresh_from_db()
    assert reply.channel == ChannelKind.WEB
    assert reply.is_sandbox and reply.delivery_status == DeliveryStatus.DELIVERED
    assert reply.email_message_id.startswith("<pd.")
    answer = receive_message(
        inbound=InboundMessage(
            channel=ChannelKind.EMAIL,
            identity_kind=IdentityKind.EMAIL,
            identity_value="sam@example.com",
            body="Great, I'll pick it up.",
            provider="sendgrid",
            provider_message_id="<answer@example.com>",
            subject=f"Re: {ticket.subject} [{ticket.reference}]",
            email_message_id="<answer@example.com>",
            in_reply_to=reply.email_message_id,
        )
    )
    assert answer.ticket == ticket
    assert answer.direction == MessageDirection.INBOUND


def test_the_sidebar_card_shows_page_cart_and_order(client, inbox):
    token = new_token(client, inbox)
    send(
        client,
        inbox,
        token,
        page_url="https://shop.example.com/cart",
        order="1001",
        cart={"item_count": 1, "items": [{"title": "Flyers A5", "quantity": 1}]},
    )
    ticket = Ticket.objects.get()
    client.force_login(agent())
    page = client.get(f"/tickets/{ticket.reference}/webchat/")
    assert page.status_code == 200
    assert b"Flyers A5" in page.content and b"#1001" in page.content
    assert b"https://shop.example.com/cart" in page.content
    detail = client.get(f"/tickets/{ticket.reference}/")
    assert f"/tickets/{ticket.reference}/webchat/".encode() in detail.content


def test_erasure_blanks_the_web_chat_context(client, inbox):
    token = new_token(client, inbox)
    send(
        client,
        inbox,
        token,
        page_url="https://shop.example.com/p",
        email="sam@example.com",
        order="1001",
        cart={"items": [{"title": "Flyers", "quantity": 1}]},
    )
    ticket = Ticket.objects.get()
    assert redact_web_conversations(ticket_ids=[ticket.pk]) == 1
    conversation = WebChatConversation.objects.get()
    assert (conversation.contact_email, conversation.page_url, conversation.cart) == ("", "", {})


def test_the_expected_reply_time_comes_from_first_responses(client, inbox):
    assert call(client, "get", f"/widget/{inbox.key}/config/").json()["reply_seconds"] is None
    cache.clear()
    ticket = TicketFactory(channel=ChannelKind.WEB)
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_at=ticket.created_at + timedelta(minutes=5)
    )
    config = call(client, "get", f"/widget/{inbox.key}/config/").json()
    assert config["reply_seconds"] == 300
