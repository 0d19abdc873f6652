"""Email senders' rules (issue 20): a sender whose domain fails DKIM and SPF does not thread into
a known customer's ticket; auto-replies are stored but never answered; our automated mail says
it is automatic (RFC 3834)."""

from email.message import Message

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from automation.models import RuleEvent
from automation.tests.factories import RuleFactory
from integrations.inbound import is_auto_reply, sender_failed_authentication
from integrations.router import automated_mail_headers
from integrations.tests import channels
from integrations.tests.test_channel_webhooks import parse_form
from tickets.models import (
    ChannelKind,
    IdentityKind,
    MessageDirection,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from tickets.services import change_status, send_automated_message
from tickets.tests.factories import (
    CustomerIdentityFactory,
    OutboundMessageFactory,
    TicketFactory,
    TicketMessageFactory,
)

pytestmark = pytest.mark.django_db

AUTH = channels.basic_auth("parse", "s3cret")


@pytest.fixture
def client(client, django_capture_on_commit_callbacks, settings):
    settings.SENDGRID_INBOUND_USER, settings.SENDGRID_INBOUND_PASSWORD = "parse", "s3cret"
    return channels.CommittingClient(client, django_capture_on_commit_callbacks)


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT)


@pytest.fixture
def janes_ticket():
    """Jane's open email ticket, with our reply whose Message-ID a reply would name."""
    identity = CustomerIdentityFactory(kind=IdentityKind.EMAIL, value="jane@example.com")
    ticket = TicketFactory(customer=identity.customer, channel=ChannelKind.EMAIL)
    TicketMessageFactory(
        ticket=ticket,
        direction=MessageDirection.OUTBOUND,
        channel=ChannelKind.EMAIL,
        email_message_id="<pd.1.ab@printdesk.local>",
    )
    return ticket


def post_mail(
    client,
    *,
    message_id: str,
    in_reply_to: str = "<pd.1.ab@printdesk.local>",
    extra_headers: str = "",
    **fields,
):
    headers = channels.parse_headers(message_id=message_id, in_reply_to=in_reply_to)
    form = parse_form(headers=headers + extra_headers, **fields)
    assert client.post("/api/webhooks/sendgrid", data=form, headers=AUTH).status_code == 200
    return TicketMessage.objects.get(email_message_id=message_id)


# Sender authentication ------------------------------------------------------------------------


def test_spoofed_mail_from_a_known_customer_does_not_land_in_their_ticket(client, janes_ticket):
    spoof = post_mail(
        client,
        message_id="<spoof@evil.example>",
        subject=f"Re: Your order [{janes_ticket.reference}]",
        dkim="{@evil.example : pass}",
        SPF="fail",
    )
    assert spoof.ticket != janes_ticket
    assert spoof.ticket.is_unverified_sender
    assert spoof.ticket.customer == janes_ticket.customer  # staff can merge it once confirmed
    assert not janes_ticket.messages.filter(direction=MessageDirection.INBOUND).exists()


def test_authenticated_mail_threads_as_before(client, janes_ticket):
    genuine = post_mail(
        client, message_id="<real@example.com>", dkim="{@example.com : pass}", SPF="softfail"
    )
    assert genuine.ticket == janes_ticket and not janes_ticket.is_unverified_sender


def test_a_reply_on_the_unverified_ticket_stays_there(client, janes_ticket):
    spoof = post_mail(client, message_id="<s1@evil.example>", dkim="", SPF="fail")
    ours = TicketMessageFactory(
        ticket=spoof.ticket,
        direction=MessageDirection.OUTBOUND,
        channel=ChannelKind.EMAIL,
        email_message_id="<pd.2.cd@printdesk.local>",
    )
    form = parse_form(
        headers=channels.parse_headers(
            message_id="<s2@evil.example>", in_reply_to=ours.email_message_id
        ),
        dkim="",
        SPF="fail",
    )
    client.post("/api/webhooks/sendgrid", data=form, headers=AUTH)
    assert TicketMessage.objects.get(email_message_id="<s2@evil.example>").ticket == spoof.ticket


def test_unverified_sender_is_in_the_api_and_on_the_page(client, agent, janes_ticket):
    spoof = post_mail(
        client, message_id="<s3@evil.example>", dkim="{@example.com : fail}", SPF="fail"
    )
    client.client.force_login(agent)
    body = client.get(f"/api/tickets/{spoof.ticket.reference}/").json()
    assert body["is_unverified_sender"] is True
    page = client.get(f"/tickets/{spoof.ticket.reference}/").content.decode()
    assert "Unverified sender" in page


@pytest.mark.parametrize(
    ("sender", "dkim", "spf", "failed"),
    [
        ("jane@example.com", "{@example.com : pass}", "fail", False),
        ("jane@mail.example.com", "{@example.com : pass}", "fail", False),  # relaxed alignment
        ("jane@example.com", "{@evil.example : pass}", "fail", True),
        ("jane@example.com", "{@example.com : fail, @example.com : pass}", "softfail", False),
        ("jane@example.com", "{@example.com : fail}", "softfail", True),
        ("jane@example.com", "none", "fail", True),
        ("jane@example.com", "none", "pass", False),
        ("jane@example.com", "none", "none", False),  # no SPF record says nothing
        ("jane@example.com", "none", "neutral", False),
        ("jane@example.com", "", "", False),  # fields missing: not judged
        ("jane@notexample.com", "{@example.com : pass}", "fail", True),
    ],
)
def test_sender_authentication(sender, dkim, spf, failed):
    assert sender_failed_authentication(from_address=sender, dkim=dkim, spf=spf) is failed


# Auto-replies ---------------------------------------------------------------------------------


def headers(**values) -> Message:
    message = Message()
    for name, value in values.items():
        message[name.replace("_", "-")] = value
    return message


@pytest.mark.parametrize(
    ("mail_headers", "subject", "auto"),
    [
        ({"Auto_Submitted": "auto-replied"}, "Re: order", True),
        ({"Auto_Submitted": "auto-generated; owner-email=x@y"}, "", True),
        ({"Auto_Submitted": "no"}, "Re: order", False),
        ({"X_Autoreply": "yes"}, "", True),
        ({"X_Autorespond": "Out of office"}, "", True),
        ({"Precedence": "bulk"}, "", True),
        ({"Precedence": "junk"}, "", True),
        ({"Precedence": "list"}, "", True),
        ({"Precedence": "first-class"}, "", False),
        ({"X_Auto_Response_Suppress": "All"}, "", True),
        ({}, "Out of Office: Re: banners", True),
        ({}, "Automatic reply: banners", True),
        ({}, "Abwesenheitsnotiz: Banner", True),
        ({}, "Re: out of office banners? no, in-store", False),
        ({}, "Re: banners", False),
    ],
)
def test_auto_reply_recognition(mail_headers, subject, auto):
    assert is_auto_reply(headers=headers(**mail_headers), subject=subject) is auto


@pytest.fixture
def answering_rules():
    """Rules that answer every new ticket and every message: what an auto-reply must not hit."""
    answer = [{"type": "add_note", "body": "Answered {reference}"}]
    RuleFactory(event=RuleEvent.TICKET_CREATED, actions=answer)
    RuleFactory(event=RuleEvent.MESSAGE_RECEIVED, actions=answer)


def test_out_of_office_triggers_no_automation_and_no_csat(
    client, janes_ticket, answering_rules, agent, django_capture_on_commit_callbacks
):
    Ticket.objects.filter(pk=janes_ticket.pk).update(status=TicketStatus.SOLVED)
    ooo = post_mail(
        client,
        message_id="<ooo1@example.com>",
        subject="Out of Office: Re: Your order",
        extra_headers="Auto-Submitted: auto-replied\n",
        dkim="{@example.com : pass}",
        SPF="pass",
    )
    janes_ticket.refresh_from_db()
    assert ooo.is_auto_reply and ooo.ticket == janes_ticket
    assert janes_ticket.status == TicketStatus.SOLVED  # not reopened
    assert not janes_ticket.notes.exists()

    # With no thread to join, an auto-reply opens a ticket that nothing answers either, and
    # solving it sends no survey.
    lone = post_mail(
        client,
        message_id="<ooo2@other.example>",
        in_reply_to="",
        **{"from": "Ola <ola@other.example>"},
        subject="Automatic reply: newsletter",
        dkim="{@other.example : pass}",
        SPF="pass",
    )
    assert lone.ticket != janes_ticket and not lone.ticket.notes.exists()
    with django_capture_on_commit_callbacks(execute=True):
        change_status(ticket=lone.ticket, actor=agent, status=TicketStatus.SOLVED)
    assert not lone.ticket.messages.filter(direction=MessageDirection.OUTBOUND).exists()


def test_our_automated_mail_says_so():
    identity = CustomerIdentityFactory(kind=IdentityKind.EMAIL, value="jane@example.com")
    ticket = TicketFactory(customer=identity.customer, channel=ChannelKind.EMAIL)
    survey = send_automated_message(ticket=ticket, body="How did we do?", channel="email")
    rule_reply = OutboundMessageFactory(ticket=ticket, is_automated=True)
    agent_reply = OutboundMessageFactory(ticket=ticket)
    assert automated_mail_headers(survey)["Auto-Submitted"] == "auto-generated"
    assert automated_mail_headers(rule_reply)["Auto-Submitted"] == "auto-replied"
    assert automated_mail_headers(agent_reply) == {}


@pytest.mark.django_db(transaction=True)
def test_the_fake_sendgrid_records_our_automatic_mark(fake_messaging):
    identity = CustomerIdentityFactory(kind=IdentityKind.EMAIL, value="jane@example.com")
    ticket = TicketFactory(customer=identity.customer, channel=ChannelKind.EMAIL)
    send_automated_message(ticket=ticket, body="How did we do?", channel="email")
    mail = fake_messaging.sent[-1]["request"]
    assert mail["headers"]["Auto-Submitted"] == "auto-generated"
    assert mail["headers"]["X-Auto-Response-Suppress"] == "OOF, AutoReply"
