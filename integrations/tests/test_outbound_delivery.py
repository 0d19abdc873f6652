"""Outbound delivery against loopback fakes of Twilio, SendGrid and Meta."""

import json
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from werkzeug import Response

from accounts.models import Role
from accounts.tests.factories import UserFactory
from integrations import tasks
from integrations.clients import SendResult
from integrations.services import record_send_result
from integrations.tests import channels
from tickets import services
from tickets.models import DeliveryStatus
from tickets.tests.factories import CustomerIdentityFactory, TicketFactory

pytestmark = pytest.mark.django_db

TWILIO_MESSAGES = f"/2010-04-01/Accounts/{channels.TWILIO_SID}/Messages.json"


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    return channels.CommittingClient(client, django_capture_on_commit_callbacks)


@pytest.fixture
def twilio_api(httpserver, settings):
    settings.TWILIO_ACCOUNT_SID = channels.TWILIO_SID
    settings.TWILIO_AUTH_TOKEN = channels.TWILIO_TOKEN
    settings.TWILIO_SMS_FROM = "+15559990000"
    settings.TWILIO_WHATSAPP_FROM = "+15559990001"
    settings.TWILIO_API_URL = httpserver.url_for("/").rstrip("/")
    return httpserver


@pytest.fixture
def sendgrid_api(httpserver, settings):
    settings.SENDGRID_API_KEY = "SG.test-key"
    settings.SENDGRID_API_URL = httpserver.url_for("/").rstrip("/")
    settings.SENDGRID_FROM_EMAIL = "support@printdesk.test"
    return httpserver


@pytest.fixture
def meta_api(httpserver, settings):
    settings.META_PAGE_ACCESS_TOKEN = "page-token"
    settings.META_APP_SECRET = channels.META_SECRET
    settings.META_GRAPH_URL = httpserver.url_for("/")
    return httpserver


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT)


def twilio_created(sid: str = "SM" + "1" * 32) -> dict:
    return {"sid": sid, "status": "queued", "account_sid": channels.TWILIO_SID, "body": "x"}


def twilio_error(status: int, code: int, message: str) -> Response:
    body = {"code": code, "message": message, "more_info": "https://www.twilio.com/docs/errors"}
    return Response(
        json.dumps({**body, "status": status}), status=status, mimetype="application/json"
    )


def sms_ticket(*, channel: str = "sms", sender: str = "+15551230001"):
    ticket = TicketFactory(channel=channel)
    services.record_inbound_message(ticket=ticket, channel=channel, sender=sender, body="Hi")
    return ticket


def reply(capture, ticket, agent, body="On its way"):
    with capture(execute=True):
        message = services.reply_to_ticket(ticket=ticket, author=agent, body=body)
    message.refresh_from_db()
    return message


def test_sms_reply_goes_through_twilio(twilio_api, agent, django_capture_on_commit_callbacks):
    twilio_api.expect_oneshot_request(TWILIO_MESSAGES, method="POST").respond_with_json(
        twilio_created(), status=201
    )
    message = reply(django_capture_on_commit_callbacks, sms_ticket(), agent)
    assert message.delivery_status == DeliveryStatus.SENT
    assert (message.provider, message.provider_message_id) == ("twilio", "SM" + "1" * 32)
    assert not message.is_sandbox and message.send_attempts == 1
    [(request, _)] = twilio_api.log
    form = parse_qs(request.get_data(as_text=True))
    assert form["To"] == ["+15551230001"] and form["From"] == ["+15559990000"]
    assert form["Body"] == ["On its way"]
    assert form["StatusCallback"] == ["http://127.0.0.1:8000/api/webhooks/twilio/status"]
    assert request.authorization.username == channels.TWILIO_SID


def test_whatsapp_reply_uses_whatsapp_addresses(
    twilio_api, agent, django_capture_on_commit_callbacks
):
    twilio_api.expect_oneshot_request(TWILIO_MESSAGES).respond_with_json(
        twilio_created(), status=201
    )
    reply(
        django_capture_on_commit_callbacks,
        sms_ticket(channel="whatsapp", sender="+447700900123"),
        agent,
    )
    form = parse_qs(twilio_api.log[0][0].get_data(as_text=True))
    assert form["To"] == ["whatsapp:+447700900123"]
    assert form["From"] == ["whatsapp:+15559990001"]


def test_server_error_is_retried_then_sent(twilio_api, agent, django_capture_on_commit_callbacks):
    twilio_api.expect_ordered_request(TWILIO_MESSAGES).respond_with_response(
        twilio_error(500, 20500, "Internal Server Error")
    )
    twilio_api.expect_ordered_request(TWILIO_MESSAGES).respond_with_json(
        twilio_created(), status=201
    )
    message = reply(django_capture_on_commit_callbacks, sms_ticket(), agent)
    assert message.delivery_status == DeliveryStatus.SENT
    assert message.send_attempts == 2
    assert len(twilio_api.log) == 2


def test_validation_error_fails_at_once(twilio_api, agent, django_capture_on_commit_callbacks):
    twilio_api.expect_request(TWILIO_MESSAGES).respond_with_response(
        twilio_error(400, 21211, "The 'To' number is not a valid phone number.")
    )
    message = reply(django_capture_on_commit_callbacks, sms_ticket(), agent)
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.error_code == "21211"
    assert "not a valid phone number" in message.error_message
    assert len(twilio_api.log) == 1


def test_gives_up_after_max_attempts(
    twilio_api, agent, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOUND_MAX_SEND_ATTEMPTS = 3
    twilio_api.expect_request(TWILIO_MESSAGES).respond_with_response(
        twilio_error(503, 20503, "Service Unavailable")
    )
    message = reply(django_capture_on_commit_callbacks, sms_ticket(), agent)
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.send_attempts == 3 and len(twilio_api.log) == 3
    assert message.error_message.startswith("Gave up after 3 attempts")


def test_retry_is_deferred_with_exponential_backoff(twilio_api, agent, database_tasks):
    twilio_api.expect_request(TWILIO_MESSAGES).respond_with_response(
        twilio_error(429, 20429, "Too Many Requests")
    )
    message = services.reply_to_ticket(ticket=sms_ticket(), author=agent, body="Hello")
    started = timezone.now()
    assert tasks.deliver_ticket_message.call(message_id=message.pk) == DeliveryStatus.QUEUED
    assert tasks.deliver_ticket_message.call(message_id=message.pk) == DeliveryStatus.QUEUED
    delays = sorted(
        (row.run_after - started).total_seconds()
        for row in DBTaskResult.objects.filter(task_path__endswith="deliver_ticket_message")
    )
    assert 29 <= delays[0] <= 35 and 59 <= delays[1] <= 65
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.QUEUED and message.send_attempts == 2


def test_unreachable_provider_is_retryable(settings, agent, django_capture_on_commit_callbacks):
    settings.META_PAGE_ACCESS_TOKEN = "page-token"
    settings.META_GRAPH_URL = "http://127.0.0.1:9"  # discard port: connection refused
    settings.OUTBOUND_MAX_SEND_ATTEMPTS = 2
    ticket = TicketFactory(channel="facebook")
    services.record_inbound_message(ticket=ticket, channel="facebook", sender="psid1", body="Hi")
    message = reply(django_capture_on_commit_callbacks, ticket, agent)
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.error_code == "unreachable" and message.send_attempts == 2


def test_status_callbacks_are_monotonic(
    twilio_api, client, agent, django_capture_on_commit_callbacks
):
    twilio_api.expect_request(TWILIO_MESSAGES).respond_with_json(twilio_created("SM9"), status=201)
    message = reply(django_capture_on_commit_callbacks, sms_ticket(), agent)
    for status in ("delivered", "sent", "failed"):
        params = channels.twilio_status(sid="SM9", status=status, ErrorCode="30003")
        assert (
            channels.twilio_post(client, "/api/webhooks/twilio/status", params).status_code == 200
        )
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.DELIVERED
    assert message.delivered_at is not None and message.error_code == ""


def test_status_callback_before_send_result_is_applied_later(
    twilio_api, client, agent, django_capture_on_commit_callbacks
):
    message = services.reply_to_ticket(ticket=sms_ticket(), author=agent, body="Hello")
    early = channels.twilio_status(sid="SM6", status="delivered")
    assert channels.twilio_post(client, "/api/webhooks/twilio/status", early).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        record_send_result(
            message_id=message.pk,
            result=SendResult(provider="twilio", provider_message_id="SM6", status="sent"),
        )
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.DELIVERED


def test_failed_status_callback_keeps_error(
    twilio_api, client, agent, django_capture_on_commit_callbacks
):
    twilio_api.expect_request(TWILIO_MESSAGES).respond_with_json(twilio_created("SM8"), status=201)
    message = reply(django_capture_on_commit_callbacks, sms_ticket(), agent)
    params = channels.twilio_status(sid="SM8", status="undelivered", ErrorCode="30003")
    channels.twilio_post(client, "/api/webhooks/twilio/status", params)
    message.refresh_from_db()
    assert (message.delivery_status, message.error_code) == ("failed", "30003")
    assert "30003" in message.error_message


def test_email_reply_threads_and_customer_answer_comes_back(
    sendgrid_api, client, agent, settings, django_capture_on_commit_callbacks
):
    settings.SENDGRID_INBOUND_USER, settings.SENDGRID_INBOUND_PASSWORD = "parse", "pw"
    sendgrid_api.expect_request("/v3/mail/send", method="POST").respond_with_data(
        "", status=202, headers={"X-Message-Id": "sgMSG123"}
    )
    identity = CustomerIdentityFactory(value="jane@example.com")
    ticket = TicketFactory(customer=identity.customer, subject="Banner sizes")
    services.record_inbound_message(
        ticket=ticket,
        channel="email",
        sender="jane@example.com",
        body="?",
        email_message_id="<first@mail.example.com>",
    )
    message = reply(django_capture_on_commit_callbacks, ticket, agent, body="Yes, up to 5m.")
    assert (message.delivery_status, message.provider_message_id) == ("sent", "sgMSG123")
    sent = json.loads(sendgrid_api.log[0][0].get_data())
    assert sent["subject"] == f"Re: Banner sizes [{ticket.reference}]"
    assert sent["headers"]["Message-ID"] == message.email_message_id
    assert sent["headers"]["In-Reply-To"] == "<first@mail.example.com>"
    assert sent["headers"]["References"] == "<first@mail.example.com>"
    assert sent["custom_args"] == {"pd_message_id": str(message.pk)}
    assert sent["personalizations"][0]["to"] == [{"email": "jane@example.com"}]

    answer = {
        "headers": channels.parse_headers(
            message_id="<second@mail.example.com>", in_reply_to=message.email_message_id
        ),
        "from": "Jane <jane@example.com>",
        "subject": "Re: something else entirely",
        "text": "Great, thanks!\n\nOn Tue, Support <support@printdesk.test> wrote:\n> Up to 5m.",
    }
    response = client.post(
        "/api/webhooks/sendgrid", data=answer, headers=channels.basic_auth("parse", "pw")
    )
    assert response.status_code == 200
    answered = ticket.messages.order_by("-pk").first()
    assert answered.body == "Great, thanks!"
    assert answered.in_reply_to == message.email_message_id


def test_meta_reply_then_delivery_and_read(
    meta_api, client, agent, django_capture_on_commit_callbacks
):
    meta_api.expect_request("/v21.0/me/messages", method="POST").respond_with_json(
        {"recipient_id": "psid42", "message_id": "m_out_1"}
    )
    ticket = TicketFactory(channel="instagram")
    services.record_inbound_message(ticket=ticket, channel="instagram", sender="psid42", body="Hi")
    CustomerIdentityFactory(customer=ticket.customer, kind="instagram", value="psid42")
    message = reply(django_capture_on_commit_callbacks, ticket, agent)
    assert (message.delivery_status, message.provider_message_id) == ("sent", "m_out_1")
    request = meta_api.log[0][0]
    assert request.args["access_token"] == "page-token"
    assert json.loads(request.get_data())["recipient"] == {"id": "psid42"}

    def receipt(kind, body):
        item = {"sender": {"id": "psid42"}, "recipient": {"id": "IG"}, "timestamp": 1, kind: body}
        return {"object": "instagram", "entry": [{"id": "IG", "time": 1, "messaging": [item]}]}

    channels.meta_post(client, receipt("delivery", {"mids": ["m_out_1"], "watermark": 1}))
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.DELIVERED
    watermark = int((timezone.now() + timedelta(seconds=5)).timestamp() * 1000)
    channels.meta_post(client, receipt("read", {"watermark": watermark}))
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.READ


def test_meta_rejection_fails_with_graph_error(meta_api, agent, django_capture_on_commit_callbacks):
    meta_api.expect_request("/v21.0/me/messages").respond_with_json(
        {"error": {"message": "(#10) Outside of allowed window", "code": 10}}, status=400
    )
    ticket = TicketFactory(channel="facebook")
    services.record_inbound_message(ticket=ticket, channel="facebook", sender="psid7", body="Hi")
    message = reply(django_capture_on_commit_callbacks, ticket, agent)
    assert (message.delivery_status, message.error_code) == ("failed", "10")
    assert "allowed window" in message.error_message


def test_sandbox_without_credentials(agent, django_capture_on_commit_callbacks):
    ticket = TicketFactory(channel="email")
    services.record_inbound_message(
        ticket=ticket, channel="email", sender="a@example.com", body="?"
    )
    message = reply(django_capture_on_commit_callbacks, ticket, agent)
    assert message.delivery_status == DeliveryStatus.DELIVERED
    assert message.is_sandbox and message.provider == "sandbox"
    assert message.email_message_id.startswith(f"<pd.{message.pk}.")


# Staff retry ---------------------------------------------------------------------------------


def failed_message(agent, capture, twilio_api):
    twilio_api.expect_oneshot_request(TWILIO_MESSAGES).respond_with_response(
        twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
    )
    return reply(capture, sms_ticket(), agent)


def test_staff_retry_of_failed_message(
    twilio_api, client, agent, django_capture_on_commit_callbacks
):
    message = failed_message(agent, django_capture_on_commit_callbacks, twilio_api)
    assert message.delivery_status == DeliveryStatus.FAILED
    twilio_api.expect_oneshot_request(TWILIO_MESSAGES).respond_with_json(
        twilio_created("SM7"), status=201
    )
    client.client.force_login(agent)
    url = f"/tickets/{message.ticket.reference}/messages/{message.pk}/retry/"
    response = client.post(url)
    assert (
        response.status_code == 302
        and response["Location"] == f"/tickets/{message.ticket.reference}/"
    )
    message.refresh_from_db()
    assert (message.delivery_status, message.provider_message_id) == ("sent", "SM7")
    assert message.error_code == "" and message.send_attempts == 1


def test_retry_refused_for_viewer_and_for_non_failed(
    twilio_api, client, agent, django_capture_on_commit_callbacks
):
    message = failed_message(agent, django_capture_on_commit_callbacks, twilio_api)
    url = f"/tickets/{message.ticket.reference}/messages/{message.pk}/retry/"
    assert client.post(url).status_code == 302  # anonymous: to the login page
    client.client.force_login(UserFactory(role=Role.VIEWER))
    assert client.post(url).status_code == 403
    client.client.force_login(agent)
    assert client.post(f"/tickets/PD-0/messages/{message.pk}/retry/").status_code == 404
    message.delivery_status = DeliveryStatus.DELIVERED
    message.save()
    response = client.post(url)
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.DELIVERED


# Django email backend ------------------------------------------------------------------------


def test_email_backend_sandbox_keeps_the_mail(settings, tmp_path):
    settings.EMAIL_BACKEND = "integrations.sendgrid.email_backend.SendGridEmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    assert mail.send_mail("Reset", "Your link", "support@printdesk.local", ["a@example.com"]) == 1
    [saved] = list((tmp_path / "mail").iterdir())
    assert "Your link" in saved.read_text()


def test_email_backend_sends_through_sendgrid(sendgrid_api, settings):
    settings.EMAIL_BACKEND = "integrations.sendgrid.email_backend.SendGridEmailBackend"
    sendgrid_api.expect_request("/v3/mail/send").respond_with_data("", status=202)
    assert mail.send_mail("Reset", "Your link", "support@printdesk.local", ["a@example.com"]) == 1
    sent = json.loads(sendgrid_api.log[0][0].get_data())
    assert sent["subject"] == "Reset"
    assert sent["content"] == [{"type": "text/plain", "value": "Your link"}]
