"""The providers' messaging windows, end to end against the fakes that enforce them: Twilio
fails a free-form WhatsApp body outside 24 h with 63016, Meta's Send API refuses outside 24 h
without the HUMAN_AGENT tag (code 10, subcode 2018278) and after 7 days with it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.services import send_csat_survey_now
from core.errors import ApplicationError
from integrations.clients import OutboundRequest, ProviderRejected
from integrations.meta.client import MetaClient
from integrations.router import deliver
from integrations.tests.channels import customer_writes, wait_for
from tickets import services
from tickets.models import DeliveryStatus, Ticket, TicketMessage, TicketStatus
from tickets.tests.factories import (
    CustomerIdentityFactory,
    OutboundMessageFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

PSID = "4242"
WHATSAPP = "+447700900123"


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def test_fake_twilio_fails_a_free_form_whatsapp_body_outside_the_window(fake, agent):
    ticket = TicketFactory(channel="whatsapp")
    # Our database saw a message the provider never did: Twilio still has the window closed.
    services.record_inbound_message(ticket=ticket, channel="whatsapp", sender=WHATSAPP, body="Hi")
    message = services.reply_to_ticket(ticket=ticket, author=agent, body="Hello")
    message = wait_for(message, DeliveryStatus.FAILED)
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.error_code == "63016"
    assert fake.sent[-1]["error_code"] == 63016


def meta_send(**kind) -> str:
    request = OutboundRequest(message_id=1, channel="facebook", to=PSID, body="Hi", **kind)
    return MetaClient.from_settings().send(request).provider_message_id


def test_fake_graph_api_refuses_outside_24_hours_without_the_tag(fake):
    fake.customer_wrote(PSID, at=days_ago(3).timestamp())
    with pytest.raises(ProviderRejected) as excinfo:
        meta_send()
    assert excinfo.value.code == "10"
    assert "outside of allowed window" in str(excinfo.value)
    assert meta_send(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT").startswith("m_")


def test_fake_graph_api_refuses_after_7_days_even_with_the_tag(fake):
    fake.customer_wrote(PSID, at=days_ago(8).timestamp())
    with pytest.raises(ProviderRejected):
        meta_send(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")


def test_messenger_reply_on_day_3_carries_human_agent(fake, agent):
    ticket = TicketFactory(channel="facebook")
    customer_writes(fake, ticket=ticket, channel="facebook", sender=PSID, at=days_ago(3))
    message = services.reply_to_ticket(ticket=ticket, author=agent, body="Sorry for the wait")
    message = wait_for(message, DeliveryStatus.DELIVERED)
    assert message.delivery_status == DeliveryStatus.DELIVERED
    sent = fake.sent[-1]["request"]
    assert (sent["messaging_type"], sent["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_messenger_reply_inside_24_hours_is_a_response(fake, agent):
    ticket = TicketFactory(channel="facebook")
    customer_writes(fake, ticket=ticket, channel="facebook", sender=PSID)
    message = services.reply_to_ticket(ticket=ticket, author=agent, body="Hi!")
    wait_for(message, DeliveryStatus.DELIVERED)
    assert fake.sent[-1]["request"]["messaging_type"] == "RESPONSE"
    assert "tag" not in fake.sent[-1]["request"]


def test_messenger_reply_on_day_8_is_refused_before_any_call(fake, agent):
    ticket = TicketFactory(channel="facebook")
    customer_writes(fake, ticket=ticket, channel="facebook", sender=PSID, at=days_ago(8))
    with pytest.raises(ApplicationError) as excinfo:
        services.reply_to_ticket(ticket=ticket, author=agent, body="Hello?")
    assert excinfo.value.code == "meta_window_closed"
    assert fake.sent == []


def test_queued_reply_is_checked_again_at_send_time(fake, agent):
    ticket = TicketFactory(channel="facebook")
    # The window closed while the agent's reply waited in the queue.
    customer_writes(fake, ticket=ticket, channel="facebook", sender=PSID, at=days_ago(7.1))
    message = OutboundMessageFactory(
        ticket=ticket, author=agent, delivery_status=DeliveryStatus.QUEUED, sent_at=None
    )
    assert deliver(message_id=message.pk).status == DeliveryStatus.FAILED
    message.refresh_from_db()
    assert message.error_code == "meta_window_closed"
    assert fake.sent == []


def test_csat_on_a_closed_whatsapp_window_is_skipped_and_goes_by_email(fake):
    ticket = TicketFactory(channel="whatsapp")
    customer_writes(fake, ticket=ticket, channel="whatsapp", sender=WHATSAPP, at=days_ago(2))
    CustomerIdentityFactory(customer=ticket.customer, kind="email", value="jane@example.com")
    Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.SOLVED)
    survey = send_csat_survey_now(ticket_id=ticket.pk)
    assert survey.channel == "email"
    skipped = TicketMessage.objects.get(channel="whatsapp", direction="out")
    assert skipped.delivery_status == DeliveryStatus.SKIPPED
    assert skipped.error_code == "whatsapp_window_closed"
    by_email = wait_for(
        TicketMessage.objects.get(channel="email", direction="out"), DeliveryStatus.DELIVERED
    )
    assert survey.token in by_email.body
    assert [sent["provider"] for sent in fake.sent] == ["sendgrid"]
    assert fake.sent[0]["request"]["personalizations"][0]["to"][0]["email"] == "jane@example.com"
