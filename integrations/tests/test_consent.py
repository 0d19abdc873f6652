"""Consent from the providers: Twilio STOP/START (Advanced Opt-Out `OptOutType` or the body
keyword) and SendGrid suppressions; a send to an opted-out address never reaches the provider."""

import json

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from core.errors import ApplicationError
from integrations import router
from integrations.models import WebhookEvent, WebhookStatus
from integrations.tests import channels
from tickets import services
from tickets.models import CustomerIdentity, DeliveryStatus, OptOutReason, TicketMessage
from tickets.tests.factories import CustomerIdentityFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    return channels.CommittingClient(client, django_capture_on_commit_callbacks)


@pytest.fixture
def secrets(settings):
    settings.TWILIO_ACCOUNT_SID = channels.TWILIO_SID
    settings.TWILIO_AUTH_TOKEN = channels.TWILIO_TOKEN
    keys = channels.EventWebhookKeys()
    settings.SENDGRID_EVENT_PUBLIC_KEY = keys.public_key
    return keys


def text(client, sid: str, body: str, sender: str = "+15551230001", **extra):
    params = channels.twilio_sms(sid=sid, sender=sender, body=body, **extra)
    response = channels.twilio_post(client, "/api/webhooks/twilio", params)
    assert response.status_code == 200
    return CustomerIdentity.objects.get(value=sender.removeprefix("whatsapp:"))


@pytest.mark.parametrize("body", ["STOP", "stop", " Unsubscribe ", "STOPALL", "end", "Quit"])
def test_an_opt_out_keyword_opts_the_number_out(client, secrets, body):
    identity = text(client, "SM1", body)
    assert identity.opted_out_at is not None
    assert identity.opt_out_reason == OptOutReason.SMS_STOP
    # The keyword is still the customer's message on the timeline.
    assert TicketMessage.objects.get().body == body.strip()


def test_optouttype_from_advanced_opt_out_counts_whatever_the_body(client, secrets):
    # A custom Advanced Opt-Out keyword ("BAJA") arrives with OptOutType=STOP.
    identity = text(client, "SM1", "BAJA", OptOutType="STOP")
    assert identity.opted_out_at is not None


def test_a_keyword_inside_a_sentence_is_just_a_message(client, secrets):
    identity = text(client, "SM1", "Please stop the second print run")
    assert identity.opted_out_at is None


def test_start_lifts_the_opt_out_and_help_changes_nothing(client, secrets):
    text(client, "SM1", "STOP")
    assert text(client, "SM2", "HELP", OptOutType="HELP").opted_out_at is not None
    assert text(client, "SM3", "start").opted_out_at is None


def test_whatsapp_stop_opts_out_the_whatsapp_identity_only(client, secrets):
    identity = text(client, "SM1", "STOP", sender="whatsapp:+447700900123")
    assert identity.kind == "whatsapp" and identity.opted_out_at is not None


def sendgrid_event(event: str, *, email: str = "jane@example.com", **extra) -> dict:
    return {
        "email": email,
        "timestamp": 1700000000,
        "event": event,
        "sg_event_id": f"ev-{event}-{email}",
        "sg_message_id": "14c5d75ce93.filter0001.16648.5515E0B88.0",
        **extra,
    }


def post_events(client, keys, events):
    raw = json.dumps(events).encode()
    return client.post(
        "/api/webhooks/sendgrid/events",
        data=raw,
        content_type="application/json",
        headers=keys.headers(raw),
    )


@pytest.mark.parametrize(
    ("event", "extra", "reason"),
    [
        ("unsubscribe", {}, OptOutReason.EMAIL_UNSUBSCRIBE),
        ("group_unsubscribe", {"asm_group_id": 10}, OptOutReason.EMAIL_GROUP_UNSUBSCRIBE),
        ("spamreport", {}, OptOutReason.EMAIL_SPAM_REPORT),
        ("bounce", {"type": "bounce", "reason": "550 5.1.1 no such user"}, "email_bounce"),
        ("dropped", {"reason": "Bounced Address"}, OptOutReason.EMAIL_DROPPED),
    ],
)
def test_sendgrid_suppressions_suppress_the_email_identity(client, secrets, event, extra, reason):
    identity = CustomerIdentityFactory(kind="email", value="jane@example.com")
    assert post_events(client, secrets, [sendgrid_event(event, **extra)]).status_code == 200
    identity.refresh_from_db()
    assert (identity.opt_out_reason, identity.opted_out_at is not None) == (reason, True)
    assert WebhookEvent.objects.get().status == WebhookStatus.PROCESSED


@pytest.mark.parametrize(
    ("event", "extra"),
    [
        ("bounce", {"type": "blocked", "reason": "421 try later"}),
        ("dropped", {"reason": "Recipient List over Package Quota"}),
        ("delivered", {}),
    ],
)
def test_other_events_suppress_nothing(client, secrets, event, extra):
    identity = CustomerIdentityFactory(kind="email", value="jane@example.com")
    post_events(client, secrets, [sendgrid_event(event, **extra)])
    identity.refresh_from_db()
    assert identity.opted_out_at is None


def test_group_resubscribe_lifts_only_a_group_unsubscribe(client, secrets):
    group = CustomerIdentityFactory(kind="email", value="jane@example.com")
    spam = CustomerIdentityFactory(kind="email", value="joe@example.com")
    post_events(
        client,
        secrets,
        [sendgrid_event("group_unsubscribe"), sendgrid_event("spamreport", email=spam.value)],
    )
    post_events(
        client,
        secrets,
        [
            sendgrid_event("group_resubscribe", sg_event_id="r1"),
            sendgrid_event("group_resubscribe", email=spam.value, sg_event_id="r2"),
        ],
    )
    group.refresh_from_db()
    spam.refresh_from_db()
    assert group.opted_out_at is None and spam.opted_out_at is not None


def test_a_suppressed_address_we_never_knew_is_ignored(client, secrets):
    post_events(client, secrets, [sendgrid_event("unsubscribe", email="stranger@example.com")])
    assert WebhookEvent.objects.get().status == WebhookStatus.IGNORED


def test_the_router_refuses_a_queued_reply_to_a_number_that_opted_out_since(
    client, secrets, settings, django_capture_on_commit_callbacks
):
    """A reply queued before the STOP arrived fails at send time, before any provider call
    (the Twilio API URL here answers nothing: a call would fail differently)."""
    settings.TWILIO_API_URL = "http://127.0.0.1:9"
    agent = UserFactory(role=Role.AGENT)
    identity = text(client, "SM1", "Hi")
    ticket = TicketMessage.objects.get().ticket
    message = services.reply_to_ticket(ticket=ticket, author=agent, body="On its way")
    text(client, "SM2", "STOP")
    assert router.deliver(message_id=message.pk).status == DeliveryStatus.FAILED
    message.refresh_from_db()
    assert message.error_code == "recipient_opted_out"
    assert identity.value in message.error_message and message.send_attempts == 1


def test_the_router_refuses_an_automated_sms_over_1600_characters(secrets, settings):
    settings.TWILIO_API_URL = "http://127.0.0.1:9"
    ticket = TicketFactory(channel="sms")
    services.record_inbound_message(ticket=ticket, channel="sms", sender="+15551230001", body="Hi")
    message = services.send_automated_message(ticket=ticket, body="x" * 1601)
    assert router.deliver(message_id=message.pk).status == DeliveryStatus.FAILED
    message.refresh_from_db()
    assert message.error_code == "body_too_long"


def test_an_agent_reply_to_an_opted_out_number_is_refused_with_the_reason(client, secrets):
    agent = UserFactory(role=Role.AGENT)
    text(client, "SM1", "STOP")
    ticket = TicketMessage.objects.get().ticket
    with pytest.raises(ApplicationError) as refused:
        services.reply_to_ticket(ticket=ticket, author=agent, body="Hello?", channel="sms")
    assert (refused.value.code, refused.value.status) == ("recipient_opted_out", 409)
    assert "+15551230001 opted out" in refused.value.message and "START" in refused.value.message
    assert TicketMessage.objects.filter(direction="out").count() == 0
