"""Meta's own rules (issue 20) against the fake Graph API: transient vs permanent errors,
postbacks and quick replies, echoes from Meta's inbox, the sender's profile, the pinned version."""

import re
import time

import pytest

from integrations.fakes.messaging import meta_error
from integrations.models import WebhookEvent, WebhookStatus
from tickets import services
from tickets.models import (
    ChannelKind,
    CustomerIdentity,
    DeliveryStatus,
    IdentityKind,
    MessageDirection,
    TicketMessage,
)
from tickets.tests.factories import CustomerIdentityFactory, TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)

RATE_LIMITED = meta_error(
    613, "(#613) Calls to this api have exceeded the rate limit.", is_transient=True
)
OUTSIDE_WINDOW = meta_error(
    10,
    "(#10) This message is sent outside of allowed window.",
    subcode=2018278,
    is_transient=False,
)


@pytest.fixture
def fake(fake_messaging):
    return fake_messaging


def eventually(check, *, what: str):
    for _ in range(300):  # up to 15 s on a loaded machine
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def messenger_ticket(fake, psid: str = "4242"):
    fake.customer_wrote(psid)
    identity = CustomerIdentityFactory(kind=IdentityKind.FACEBOOK, value=psid)
    ticket = TicketFactory(customer=identity.customer, channel=ChannelKind.FACEBOOK)
    services.record_inbound_message(
        ticket=ticket, channel=ChannelKind.FACEBOOK, sender=psid, body="Hi"
    )
    return ticket


def customer_item(psid: str, **event) -> dict:
    return {
        "sender": {"id": psid},
        "recipient": {"id": "PAGE_ID"},
        "timestamp": int(time.time() * 1000),
        **event,
    }


# Errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        RATE_LIMITED,
        meta_error(4, "(#4) Application request limit reached"),
        meta_error(17, "(#17) User request limit reached"),
        meta_error(32, "(#32) Page request limit reached"),
        meta_error(2, "An unexpected error has occurred. Please retry.", is_transient=True),
    ],
)
def test_rate_limits_and_transient_errors_are_retried(fake, error):
    ticket = messenger_ticket(fake)
    fake.fail_meta_sends(error)
    message = services.send_automated_message(ticket=ticket, body="Your proof is ready")
    message.refresh_from_db()
    assert message.delivery_status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
    assert message.send_attempts == 2
    assert [sent["provider"] for sent in fake.sent] == ["meta"]


def test_a_permanent_error_fails_at_once_with_code_and_subcode(fake):
    ticket = messenger_ticket(fake)
    fake.fail_meta_sends(OUTSIDE_WINDOW)
    message = services.send_automated_message(ticket=ticket, body="Still there?")
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert (message.error_code, message.error_subcode) == ("10", "2018278")
    assert message.send_attempts == 1 and "outside of allowed window" in message.error_message


def test_a_rate_limit_that_outlasts_the_retries_keeps_its_subcode(fake, settings):
    settings.OUTBOUND_MAX_SEND_ATTEMPTS = 3
    ticket = messenger_ticket(fake)
    fake.fail_meta_sends(*[meta_error(613, "(#613) rate limit", subcode=1893016)] * 3)
    message = services.send_automated_message(ticket=ticket, body="Hello")
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert (message.error_code, message.error_subcode, message.send_attempts) == (
        "613",
        "1893016",
        3,
    )


# Postbacks, quick replies, echoes ------------------------------------------------------------


def test_postbacks_and_quick_replies_become_customer_messages(fake):
    fake.post_meta_event(
        customer_item(
            "5151",
            postback={"mid": "m_pb_1", "title": "Track my order", "payload": "TRACK_ORDER"},
        )
    )
    fake.post_meta_event(
        customer_item(
            "5151",
            message={"mid": "m_qr_1", "text": "Banners", "quick_reply": {"payload": "CAT_BANNERS"}},
        )
    )
    fake.post_meta_event(customer_item("5151", postback={"title": "", "payload": "GET_STARTED"}))
    eventually(lambda: TicketMessage.objects.count() == 3, what="three inbound messages")
    messages = list(TicketMessage.objects.order_by("pk"))
    assert [m.body for m in messages] == ["Track my order", "Banners", "GET_STARTED"]
    assert {m.direction for m in messages} == {MessageDirection.INBOUND}
    assert len({m.ticket_id for m in messages}) == 1


def test_echoes_of_our_sends_are_not_recorded_twice(fake):
    fake.meta_echoes = True
    ticket = messenger_ticket(fake)
    message = services.send_automated_message(ticket=ticket, body="Your proof is ready")
    eventually(
        lambda: WebhookEvent.objects.filter(kind="echo", status=WebhookStatus.IGNORED).exists(),
        what="the echo",
    )
    assert ticket.messages.filter(direction=MessageDirection.OUTBOUND).count() == 1
    assert eventually(
        lambda: TicketMessage.objects.filter(
            pk=message.pk, delivery_status=DeliveryStatus.DELIVERED
        ).exists(),
        what="the delivery receipt",
    )


def test_a_reply_from_metas_inbox_is_recorded_as_outbound(fake):
    ticket = messenger_ticket(fake, "7373")
    echo = {
        "sender": {"id": "PAGE_ID"},
        "recipient": {"id": "7373"},
        "timestamp": int(time.time() * 1000),
        "message": {"is_echo": True, "app_id": 263902037430900, "mid": "m_inbox_1", "text": "Yes!"},
    }
    for _ in range(2):  # Meta retries a webhook: still one message
        assert fake.post_meta_event(echo).status_code == 200
    reply = eventually(
        lambda: TicketMessage.objects.filter(provider_message_id="m_inbox_1").first(),
        what="the echo",
    )
    assert reply.ticket == ticket and reply.direction == MessageDirection.OUTBOUND
    assert (reply.external_author, reply.author, reply.body) == (
        "sent from Meta inbox",
        None,
        "Yes!",
    )
    assert reply.delivery_status == DeliveryStatus.SENT
    assert TicketMessage.objects.filter(provider_message_id="m_inbox_1").count() == 1
    assert not fake.sent  # recorded, never sent again


# Profiles and the Graph version --------------------------------------------------------------


def profile_fetches(fake, user_id: str) -> list[dict]:
    return [f for f in fake.fetches if re.fullmatch(rf"/v[\d.]+/{user_id}", f["path"])]


@pytest.mark.parametrize(
    ("obj", "kind", "fields", "name"),
    [
        ("page", "facebook", {"first_name": "Ana", "last_name": "Lima"}, "Ana Lima"),
        ("instagram", "instagram", {"name": "Bo Berg"}, "Bo Berg"),
    ],
)
def test_the_senders_profile_is_fetched_once(fake, obj, kind, fields, name):
    picture = "https://scontent.xx.fbcdn.net/v/t1.30497-1/p.jpg?oh=1"
    fake.add_meta_profile(user_id="9090", platform=kind, profile_pic=picture, **fields)
    for mid in ("m_p1", "m_p2"):
        fake.post_meta_event(customer_item("9090", message={"mid": mid, "text": "Hi"}), obj=obj)
        eventually(
            lambda mid=mid: TicketMessage.objects.filter(provider_message_id=mid).exists(), what=mid
        )
    identity = eventually(
        lambda: CustomerIdentity.objects.filter(
            kind=kind, value="9090", profile_fetched_at__isnull=False
        ).first(),
        what="the profile",
    )
    assert (identity.display_name, identity.profile_picture_url) == (name, picture)
    assert identity.customer.name == name
    assert len(profile_fetches(fake, "9090")) == 1


def test_a_profile_meta_refuses_is_not_asked_again(fake):
    for mid in ("m_r1", "m_r2"):
        fake.post_meta_event(customer_item("8080", message={"mid": mid, "text": "Hi"}))
        eventually(
            lambda mid=mid: TicketMessage.objects.filter(provider_message_id=mid).exists(), what=mid
        )
    identity = CustomerIdentity.objects.get(value="8080")
    assert identity.profile_fetched_at is not None and identity.display_name == ""
    assert len(profile_fetches(fake, "8080")) == 1


def test_the_graph_version_is_a_setting(fake, settings):
    settings.META_GRAPH_VERSION = "v23.0"
    fake.add_meta_profile(user_id="6060", platform="facebook", first_name="Cy")
    fake.post_meta_event(customer_item("6060", message={"mid": "m_v1", "text": "Hi"}))
    eventually(lambda: profile_fetches(fake, "6060"), what="the profile call")
    assert profile_fetches(fake, "6060")[0]["path"] == "/v23.0/6060"
