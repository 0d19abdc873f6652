"""Round trip through a fake provider that calls back: reply → sent → status webhook → delivered."""

import time

import pytest

from tickets import services
from tickets.models import DeliveryStatus, TicketMessage
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake(fake_messaging):
    return fake_messaging


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
