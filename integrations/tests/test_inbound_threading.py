"""Threading rules for inbound messages (docs/channels.md) and email body clean-up."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.inbound import (
    InboundMessage,
    receive_message,
    sanitize_email_html,
    trim_email_text,
)
from integrations.models import ChannelConfiguration
from tickets.models import Ticket, TicketStatus
from tickets.tests.factories import OutboundMessageFactory, TicketFactory

pytestmark = pytest.mark.django_db


def sms(mid: str, *, sender: str = "+15551230001", channel: str = "sms", body: str = "Hi"):
    kind = {"sms": "phone"}.get(channel, channel)
    return receive_message(
        inbound=InboundMessage(
            channel=channel,
            identity_kind=kind,
            identity_value=sender,
            body=body,
            provider="twilio" if channel in ("sms", "whatsapp") else "meta",
            provider_message_id=mid,
        )
    )


def email(mid: str, *, sender="jane@example.com", subject="Hello", in_reply_to="", references=""):
    return receive_message(
        inbound=InboundMessage(
            channel="email",
            identity_kind="email",
            identity_value=sender,
            subject=subject,
            body="Body",
            provider="sendgrid",
            provider_message_id=mid,
            email_message_id=mid,
            in_reply_to=in_reply_to,
            references=references,
        )
    )


def age(ticket: Ticket, hours: float) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(
        last_message_at=timezone.now() - timedelta(hours=hours)
    )


def test_messages_within_window_share_a_ticket():
    first = sms("SM1")
    second = sms("SM2")
    assert first.ticket_id == second.ticket_id
    assert sms("SM3", sender="+15551230002").ticket_id != first.ticket_id


def test_channels_do_not_share_tickets():
    first = sms("SM1", sender="+15551230001")
    other = sms("WA1", sender="whatsapp:+15551230001", channel="whatsapp")
    assert other.ticket_id != first.ticket_id


def test_message_after_window_opens_new_ticket():
    first = sms("SM1")
    age(first.ticket, 73)
    assert sms("SM2").ticket_id != first.ticket_id


def test_window_is_configurable_per_channel():
    ChannelConfiguration.objects.create(channel="sms", threading_window_hours=2)
    first = sms("SM1")
    age(first.ticket, 1)
    assert sms("SM2").ticket_id == first.ticket_id
    age(first.ticket, 3)
    assert sms("SM3").ticket_id != first.ticket_id


def test_message_to_closed_ticket_opens_linked_follow_up():
    first = sms("m1", sender="psid1", channel="facebook")
    Ticket.objects.filter(pk=first.ticket_id).update(status=TicketStatus.CLOSED)
    follow_up = sms("m2", sender="psid1", channel="facebook").ticket
    assert follow_up.pk != first.ticket_id
    assert follow_up.follow_up_of_id == first.ticket_id


def test_solved_ticket_is_reopened():
    first = sms("SM1")
    Ticket.objects.filter(pk=first.ticket_id).update(status=TicketStatus.SOLVED)
    assert sms("SM2").ticket_id == first.ticket_id
    assert Ticket.objects.get(pk=first.ticket_id).status == TicketStatus.OPEN


def test_same_provider_message_is_stored_once():
    assert sms("SM1").pk == sms("SM1").pk


def test_email_threads_by_in_reply_to_our_message_id():
    outbound = OutboundMessageFactory(email_message_id="<pd.1.abc@printdesk.local>")
    reply = email("<r1@example.com>", subject="Unrelated", in_reply_to=outbound.email_message_id)
    assert reply.ticket_id == outbound.ticket_id


def test_email_threads_by_references():
    outbound = OutboundMessageFactory(email_message_id="<pd.2.abc@printdesk.local>")
    reply = email("<r2@example.com>", references="<other@x> <pd.2.abc@printdesk.local>")
    assert reply.ticket_id == outbound.ticket_id


def test_email_threads_by_subject_reference_of_own_ticket():
    first = email("<a@example.com>")
    ticket = first.ticket
    reply = email("<b@example.com>", subject=f"Re: Hello [{ticket.reference}]")
    assert reply.ticket_id == ticket.pk


def test_subject_reference_of_someone_elses_ticket_opens_new_ticket():
    other = TicketFactory()
    message = email("<c@example.com>", subject=f"About [{other.reference}]")
    assert message.ticket_id != other.pk


def test_email_without_thread_opens_new_ticket():
    assert email("<d@example.com>").ticket_id != email("<e@example.com>").ticket_id


def test_trim_email_text_cuts_quotes_and_signature():
    gmail = "Thanks!\n\nOn Mon, 3 Nov 2025 at 10:00, Support <s@p.com> wrote:\n> old text\n> more"
    assert trim_email_text(gmail) == "Thanks!"
    wrapped = "Sure\n\nOn Mon, 3 Nov 2025 at 10:00, Printdesk Support\n<s@p.com> wrote:\n> old"
    assert trim_email_text(wrapped) == "Sure"
    outlook = "OK\n\nFrom: Support <s@p.com>\nSent: Monday\nTo: me\nSubject: x\n\nold"
    assert trim_email_text(outlook) == "OK"
    signature = "See attached.\n-- \nJane\n+1 555"
    assert trim_email_text(signature) == "See attached."
    assert trim_email_text("Hi\nSent from my iPhone") == "Hi"
    interleaved = "> question one\nanswer one\n> question two\nanswer two"
    assert trim_email_text(interleaved) == interleaved
    assert trim_email_text("> only a quote") == "> only a quote"


def test_sanitize_email_html():
    html = (
        '<p onclick="x()">New <a href="https://e.com">link</a></p>'
        "<script>alert(1)</script><blockquote>old quoted mail</blockquote>"
    )
    clean = sanitize_email_html(html)
    assert "onclick" not in clean and "<script" not in clean and "alert" not in clean
    assert "old quoted mail" not in clean
    assert 'rel="noopener noreferrer nofollow"' in clean and "New" in clean
