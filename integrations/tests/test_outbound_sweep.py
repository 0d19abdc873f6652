"""The periodic sweep of outbound messages stuck in queued, sending or unknown."""

from datetime import timedelta
from email.utils import format_datetime

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import Role
from accounts.tests.factories import UserFactory
from integrations import router
from integrations.clients import ProviderUnavailable, may_have_arrived
from integrations.outbound_sweep import sweep_outbound
from integrations.tests import channels
from tickets.models import DeliveryStatus, TicketMessage
from tickets.tests.factories import OutboundMessageFactory, TicketFactory

pytestmark = pytest.mark.django_db

TWILIO_MESSAGES = f"/2010-04-01/Accounts/{channels.TWILIO_SID}/Messages.json"


def stuck(status: str, *, minutes: int = 11, channel: str = "sms", **fields) -> TicketMessage:
    ticket = TicketFactory(channel=channel)
    message = OutboundMessageFactory(
        ticket=ticket, channel=channel, delivery_status=status, recipient="+15551230001", **fields
    )
    TicketMessage.objects.filter(pk=message.pk).update(
        delivery_changed_at=timezone.now() - timedelta(minutes=minutes)
    )
    return message


def test_a_message_queued_too_long_is_sent_and_a_fresh_one_left_alone():
    old = stuck(DeliveryStatus.QUEUED)
    fresh = stuck(DeliveryStatus.QUEUED, minutes=2)
    assert sweep_outbound().requeued == [old.pk]
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.delivery_status == DeliveryStatus.DELIVERED and old.is_sandbox  # no credentials
    assert fresh.delivery_status == DeliveryStatus.QUEUED


def test_two_sweeps_enqueue_a_stuck_message_once(database_tasks):
    message = stuck(DeliveryStatus.QUEUED)
    sweep_outbound()
    sweep_outbound()
    assert DBTaskResult.objects.filter(args_kwargs__kwargs__message_id=message.pk).count() == 1


def test_a_send_whose_worker_died_becomes_unknown_and_meta_waits_for_staff():
    message = stuck(DeliveryStatus.SENDING, channel="facebook")
    sweep_outbound()
    message.refresh_from_db()
    assert (message.delivery_status, message.error_code) == (DeliveryStatus.UNKNOWN, "worker_lost")


def test_email_with_no_event_after_the_wait_is_sent_again():
    waiting = stuck(DeliveryStatus.UNKNOWN, channel="email", minutes=12)
    unheard = stuck(DeliveryStatus.UNKNOWN, channel="email", minutes=16)
    report = sweep_outbound()
    assert report.requeued == [unheard.pk]
    waiting.refresh_from_db()
    unheard.refresh_from_db()
    assert waiting.delivery_status == DeliveryStatus.UNKNOWN
    assert unheard.delivery_status == DeliveryStatus.DELIVERED


@pytest.fixture
def twilio_api(httpserver, settings):
    settings.TWILIO_ACCOUNT_SID = channels.TWILIO_SID
    settings.TWILIO_AUTH_TOKEN = channels.TWILIO_TOKEN
    settings.TWILIO_SMS_FROM = "+15559990000"
    settings.TWILIO_API_URL = httpserver.url_for("/").rstrip("/")
    return httpserver


def listed(sid: str, *, body: str, minutes_ago: int = 1) -> dict:
    created = format_datetime(timezone.now() - timedelta(minutes=minutes_ago), usegmt=True)
    return {
        "sid": sid,
        "to": "+15551230001",
        "from": "+15559990000",
        "body": body,
        "status": "sent",
        "date_created": created,
        "date_sent": created,
    }


def page(*messages: dict) -> dict:
    return {"messages": list(messages), "next_page_uri": None, "page": 0, "page_size": 20}


def test_twilio_unknown_is_matched_by_body_and_time(twilio_api):
    message = stuck(DeliveryStatus.UNKNOWN, body="It ships today")
    OutboundMessageFactory(provider="twilio", provider_message_id="SMknown")
    twilio_api.expect_oneshot_request(TWILIO_MESSAGES, method="GET").respond_with_json(
        page(
            listed("SMknown", body="It ships today"),  # already another message's
            listed("SMours", body="It ships today", minutes_ago=5),
            listed("SMother", body="Something else"),
            listed("SMold", body="It ships today", minutes_ago=60),
        )
    )
    assert sweep_outbound().reconciled == [message.pk]
    message.refresh_from_db()
    assert (message.delivery_status, message.provider_message_id) == ("sent", "SMours")
    [(request, _)] = twilio_api.log
    assert request.args["To"] == "+15551230001" and request.args["From"] == "+15559990000"


def test_a_twilio_send_whose_worker_died_is_reconciled_at_once(twilio_api):
    message = stuck(DeliveryStatus.SENDING, body="It ships today")
    twilio_api.expect_oneshot_request(TWILIO_MESSAGES, method="GET").respond_with_json(
        page(listed("SMours", body="It ships today", minutes_ago=12))
    )
    assert sweep_outbound().reconciled == [message.pk]
    message.refresh_from_db()
    assert (message.delivery_status, message.provider_message_id) == ("sent", "SMours")


def test_twilio_unknown_without_a_record_is_sent_again(twilio_api):
    message = stuck(DeliveryStatus.UNKNOWN, body="It ships today", send_attempts=1)
    twilio_api.expect_oneshot_request(TWILIO_MESSAGES, method="GET").respond_with_json(page())
    twilio_api.expect_oneshot_request(TWILIO_MESSAGES, method="POST").respond_with_json(
        {"sid": "SMnew", "status": "queued"}, status=201
    )
    sweep_outbound()
    message.refresh_from_db()
    assert (message.delivery_status, message.provider_message_id) == ("sent", "SMnew")
    assert message.send_attempts == 2


def test_twilio_lookup_failing_leaves_it_unknown(twilio_api):
    message = stuck(DeliveryStatus.UNKNOWN, body="It ships today")
    twilio_api.expect_oneshot_request(TWILIO_MESSAGES, method="GET").respond_with_data(
        "unavailable", status=503
    )
    assert router.settle_unknown(message_id=message.pk).status == DeliveryStatus.UNKNOWN


def test_the_periodic_checks_command_sweeps():
    stuck(DeliveryStatus.QUEUED)
    call_command("run_sla_checks")
    assert TicketMessage.objects.get(direction="out").delivery_status == DeliveryStatus.DELIVERED


def connect_failure() -> requests.ConnectionError:
    try:
        requests.post("http://127.0.0.1:9/", timeout=1)
    except requests.ConnectionError as exc:
        return exc
    raise AssertionError("port 9 answered")


def unavailable(cause: BaseException, status: int | None = None) -> ProviderUnavailable:
    try:
        raise ProviderUnavailable("x", status=status) from cause
    except ProviderUnavailable as exc:
        return exc


@pytest.mark.parametrize(
    ("cause", "status", "expected"),
    [
        (requests.ReadTimeout("read timed out"), None, True),
        (ConnectionResetError("reset by peer"), None, True),
        (TimeoutError("timed out"), None, True),
        (requests.ConnectTimeout("connect timed out"), None, False),
        (None, 503, False),
    ],
)
def test_only_failures_after_the_request_left_are_ambiguous(cause, status, expected):
    assert may_have_arrived(unavailable(cause or RuntimeError(), status)) is expected


def test_a_refused_connection_never_reached_the_provider():
    assert may_have_arrived(unavailable(connect_failure())) is False


def test_the_timeline_offers_send_again_on_an_unknown_outcome(client):
    message = stuck(DeliveryStatus.UNKNOWN, error_message="No answer")
    client.force_login(UserFactory(role=Role.AGENT))
    page = client.get(f"/tickets/{message.ticket.reference}/").content.decode()
    assert "May or may not have reached the customer" in page and "Send again" in page
    response = client.post(f"/tickets/{message.ticket.reference}/messages/{message.pk}/retry/")
    assert response.status_code in (200, 302)
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.QUEUED  # sent again after commit
