"""Round trip through a fake provider that calls back: reply → sent → status webhook → delivered."""

import pytest

from integrations.tests.channels import customer_writes, wait_for
from tickets import services
from tickets.models import DeliveryStatus
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)


CUSTOMERS = {
    "sms": "+15551230001",
    "whatsapp": "+15551230002",
    "email": "a@example.com",
    "instagram": "1789",
}


def test_reply_on_each_channel_is_delivered_and_called_back(fake):
    for channel, sender in CUSTOMERS.items():
        ticket = TicketFactory(channel=channel)
        customer_writes(fake, ticket=ticket, channel=channel, sender=sender)
        message = services.send_automated_message(ticket=ticket, body="Your proof is ready")
        message = wait_for(message, DeliveryStatus.DELIVERED)
        assert message.delivery_status == DeliveryStatus.DELIVERED, channel
        assert not message.is_sandbox
        assert fake.sent[-1]["id"] == message.provider_message_id
    assert [sent["provider"] for sent in fake.sent] == ["twilio", "twilio", "sendgrid", "meta"]
