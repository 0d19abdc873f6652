"""STOP and START through the fake Twilio, which keeps Twilio's opt-out list: a reply after STOP
is refused by us before any call (the fake would answer 21610); START lifts it."""

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from core.errors import ApplicationError
from integrations.clients import OutboundRequest, ProviderRejected
from integrations.tests import channels
from integrations.twilio.client import TwilioClient
from tickets import services
from tickets.models import CustomerIdentity, DeliveryStatus, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = "+15551230001"


def test_stop_refuses_replies_before_twilio_and_start_lifts_it(fake_messaging):
    agent = UserFactory(role=Role.AGENT)
    assert fake_messaging.customer_texts(from_=NUMBER, body="Is my banner ready?").ok
    ticket = Ticket.objects.get()
    assert fake_messaging.customer_texts(from_=NUMBER, body="STOP").ok
    assert CustomerIdentity.objects.get(value=NUMBER).opted_out_at is not None

    with pytest.raises(ApplicationError) as refused:
        services.reply_to_ticket(ticket=ticket, author=agent, body="It is!", channel="sms")
    assert refused.value.code == "recipient_opted_out"
    assert fake_messaging.sent == []

    assert fake_messaging.customer_texts(from_=NUMBER, body="START").ok
    message = services.reply_to_ticket(ticket=ticket, author=agent, body="It is!", channel="sms")
    assert (
        channels.wait_for(message, DeliveryStatus.DELIVERED).delivery_status
        == DeliveryStatus.DELIVERED
    )
    assert [sent["request"]["To"] for sent in fake_messaging.sent] == [NUMBER]


def test_the_fake_refuses_what_twilio_refuses(fake_messaging):
    """Without our checks the provider would refuse: 21610 after STOP, 21617 over 1,600."""
    fake_messaging.customer_texts(from_=NUMBER, body="stop", advanced_opt_out=False)
    client = TwilioClient.from_settings()
    with pytest.raises(ProviderRejected) as opted_out:
        client.send(OutboundRequest(message_id=1, channel="sms", to=NUMBER, body="Hi"))
    assert opted_out.value.code == "21610"
    with pytest.raises(ProviderRejected) as too_long:
        client.send(
            OutboundRequest(message_id=2, channel="sms", to="+15551230009", body="x" * 1601)
        )
    assert too_long.value.code == "21617"
    assert fake_messaging.sent == []
