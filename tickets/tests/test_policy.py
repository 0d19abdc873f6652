"""The outbound policy: per channel, send / send with Meta's HUMAN_AGENT tag / needs a WhatsApp
template / refused, from the customer's last inbound message (docs/channels.md)."""

from datetime import datetime, timedelta

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from analytics.models import AnalyticsEvent
from core.errors import ApplicationError
from tickets import services
from tickets.models import DeliveryStatus, TicketMessage
from tickets.policy import SendAction, WindowState, decide_send, get_send_window
from tickets.tests.factories import CustomerIdentityFactory, TicketFactory

pytestmark = pytest.mark.django_db

WROTE_AT = datetime.fromisoformat("2026-03-02T10:00:00+00:00")  # a Monday


def wrote(ticket, channel: str, sender: str = "4242") -> None:
    message = services.record_inbound_message(
        ticket=ticket, channel=channel, sender=sender, body="Hi"
    )
    TicketMessage.objects.filter(pk=message.pk).update(created_at=WROTE_AT)


@pytest.mark.parametrize(
    ("after", "state", "action"),
    [
        (timedelta(hours=21), WindowState.OPEN, SendAction.SEND),
        (timedelta(hours=25), WindowState.CLOSED, SendAction.NEEDS_TEMPLATE),
    ],
)
def test_whatsapp_window_is_24_hours(after, state, action):
    ticket = TicketFactory(channel="whatsapp")
    wrote(ticket, "whatsapp", "+447700900123")
    decision = decide_send(ticket=ticket, channel="whatsapp", is_human=True, now=WROTE_AT + after)
    assert (decision.window.state, decision.action) == (state, action)


def test_whatsapp_template_goes_outside_the_window():
    ticket = TicketFactory(channel="whatsapp")
    wrote(ticket, "whatsapp", "+447700900123")
    decision = decide_send(
        ticket=ticket,
        channel="whatsapp",
        is_human=True,
        has_template=True,
        now=WROTE_AT + timedelta(days=30),
    )
    assert decision.action == SendAction.SEND


def test_whatsapp_never_written_is_closed():
    ticket = TicketFactory(channel="whatsapp")
    window = get_send_window(ticket=ticket, channel="whatsapp")
    assert window.state == WindowState.CLOSED
    assert window.summary == "WhatsApp window closed — send a template"


def test_window_summary_says_when_it_closes():
    ticket = TicketFactory(channel="whatsapp")
    wrote(ticket, "whatsapp", "+447700900123")
    window = get_send_window(ticket=ticket, channel="whatsapp", now=WROTE_AT + timedelta(hours=21))
    assert window.summary == "WhatsApp window closes in 3 h"
    assert window.closes_at == WROTE_AT + timedelta(hours=24)


@pytest.mark.parametrize("channel", ["facebook", "instagram"])
def test_meta_standard_window_sends_as_response(channel):
    ticket = TicketFactory(channel=channel)
    wrote(ticket, channel)
    decision = decide_send(
        ticket=ticket, channel=channel, is_human=False, now=WROTE_AT + timedelta(hours=23)
    )
    assert decision.action == SendAction.SEND
    assert (decision.messaging_type, decision.tag) == ("RESPONSE", "")


def test_meta_day_3_human_agent_tag_for_people_only(settings):
    settings.TIME_ZONE = "UTC"
    ticket = TicketFactory(channel="facebook")
    wrote(ticket, "facebook")
    now = WROTE_AT + timedelta(days=3)
    human = decide_send(ticket=ticket, channel="facebook", is_human=True, now=now)
    assert human.action == SendAction.SEND_WITH_TAG
    assert (human.messaging_type, human.tag) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert human.window.state == WindowState.HUMAN_AGENT
    assert human.window.summary == "Facebook Messenger: human-agent tag until Mon 10:00"
    automated = decide_send(ticket=ticket, channel="facebook", is_human=False, now=now)
    assert automated.action == SendAction.REFUSED
    assert automated.code == "meta_window_closed"
    assert "only a human agent" in automated.reason


def test_meta_day_8_refused():
    ticket = TicketFactory(channel="facebook")
    wrote(ticket, "facebook")
    decision = decide_send(
        ticket=ticket, channel="facebook", is_human=True, now=WROTE_AT + timedelta(days=8)
    )
    assert decision.action == SendAction.REFUSED
    assert "within 7 days" in decision.reason


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_email_and_sms_have_no_window(channel):
    ticket = TicketFactory(channel=channel)
    decision = decide_send(ticket=ticket, channel=channel, is_human=False)
    assert decision.action == SendAction.SEND
    assert decision.window.state == WindowState.UNRESTRICTED


def test_agent_reply_on_day_8_is_refused_with_the_reason(time_machine):
    agent = UserFactory(role=Role.AGENT)
    ticket = TicketFactory(channel="facebook")
    wrote(ticket, "facebook")
    time_machine.move_to(WROTE_AT + timedelta(days=8))
    with pytest.raises(ApplicationError) as excinfo:
        services.reply_to_ticket(ticket=ticket, author=agent, body="Still there?")
    assert excinfo.value.code == "meta_window_closed"
    assert excinfo.value.status == 409
    assert not TicketMessage.objects.filter(direction="out").exists()


def test_automated_message_outside_the_window_is_skipped_with_the_reason(
    time_machine, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(channel="whatsapp")
    wrote(ticket, "whatsapp", "+447700900123")
    time_machine.move_to(WROTE_AT + timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_automated_message(ticket=ticket, body="Rate us")
    assert message.delivery_status == DeliveryStatus.SKIPPED
    assert message.error_code == "whatsapp_window_closed"
    assert "24 hours" in message.error_message
    assert services.get_fallback_channel(ticket=ticket, skipped=message) is None
    skipped = AnalyticsEvent.objects.get(name="message.skipped")
    assert skipped.properties == {"channel": "whatsapp", "code": "whatsapp_window_closed"}
    assert not AnalyticsEvent.objects.filter(name="message.automated").exists()
    CustomerIdentityFactory(customer=ticket.customer, kind="email", value="a@example.com")
    assert services.get_fallback_channel(ticket=ticket, skipped=message) == "email"
