"""Round trip through a fake provider that calls back: reply → sent → status webhook → delivered."""

import time

import pytest

from integrations.fakes.messaging import FakeMessaging
from tickets import services
from tickets.models import DeliveryStatus, TicketMessage
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake(live_server, settings):
    fake = FakeMessaging(
        public_base_url=live_server.url,
        twilio_auth_token="tw-token",
        meta_app_secret="meta-secret",
        callback_delay=0.05,
    ).start()
    settings.PUBLIC_BASE_URL = live_server.url
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC" + "0" * 32, "tw-token"
    settings.TWILIO_SMS_FROM = settings.TWILIO_WHATSAPP_FROM = "+15559990000"
    settings.TWILIO_API_URL = settings.SENDGRID_API_URL = fake.url
    settings.SENDGRID_API_KEY, settings.SENDGRID_EVENT_PUBLIC_KEY = "SG.x", fake.event_public_key
    settings.META_GRAPH_URL, settings.META_PAGE_ACCESS_TOKEN = f"{fake.url}/v21.0", "page"
    settings.META_APP_SECRET = "meta-secret"
    yield fake
    fake.stop()


def wait_for(message: TicketMessage, status: str) -> TicketMessage:
    for _ in range(300):  # up to 15 s on a loaded CI machine
        message.refresh_from_db()
        if message.delivery_status == status:
            break
        time.sleep(0.05)
    return message


CUSTOMERS = {
    "sms": "+15551230001",
    "whatsapp": "+15551230002",
    "email": "a@example.com",
    "instagram": "1789",
}


def test_reply_on_each_channel_is_delivered_and_called_back(fake):
    for channel, sender in CUSTOMERS.items():
        ticket = TicketFactory(channel=channel)
        services.record_inbound_message(ticket=ticket, channel=channel, sender=sender, body="Hi")
        message = services.send_automated_message(ticket=ticket, body="Your proof is ready")
        message = wait_for(message, DeliveryStatus.DELIVERED)
        assert message.delivery_status == DeliveryStatus.DELIVERED, channel
        assert not message.is_sandbox
        assert fake.sent[-1]["id"] == message.provider_message_id
    assert [sent["provider"] for sent in fake.sent] == ["twilio", "twilio", "sendgrid", "meta"]
