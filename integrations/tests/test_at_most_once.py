"""At most once on the wire: a send is claimed before the provider is called, and a send that
got no answer after the request left is reconciled with the provider instead of retried."""

import threading

import pytest
from django.db import connection

from accounts.models import Role
from accounts.tests.factories import UserFactory
from integrations import router
from integrations.tests import channels
from tickets import delivery, services
from tickets.models import DeliveryStatus, Ticket, TicketMessage
from tickets.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMERS = {"sms": "+15551230001", "email": "jane@example.com", "facebook": "24001"}


def reply(fake, channel: str) -> TicketMessage:
    ticket = Ticket.objects.create(subject="Banner", customer=CustomerFactory(), channel=channel)
    channels.customer_writes(fake, ticket=ticket, channel=channel, sender=CUSTOMERS[channel])
    agent = UserFactory(role=Role.AGENT)
    return services.reply_to_ticket(ticket=ticket, author=agent, body="It ships today")


@pytest.mark.parametrize("fate", ["drop", "hang"])
def test_twilio_accepted_then_no_answer_is_found_not_sent_again(fake_messaging, monkeypatch, fate):
    monkeypatch.setattr("integrations.twilio.client.TIMEOUT_SECONDS", 0.5)
    fake_messaging.hang_seconds = 2
    fake_messaging.fail_after_accept = [fate]
    message = channels.wait_for(reply(fake_messaging, "sms"), DeliveryStatus.DELIVERED)
    assert message.delivery_status == DeliveryStatus.DELIVERED
    assert [sent["id"] for sent in fake_messaging.sent] == [message.provider_message_id]
    assert message.send_attempts == 1 and message.error_message == ""


def test_twilio_never_got_it_so_it_is_sent_again(fake_messaging):
    fake_messaging.fail_after_accept = ["lose"]
    message = channels.wait_for(reply(fake_messaging, "sms"), DeliveryStatus.DELIVERED)
    assert message.delivery_status == DeliveryStatus.DELIVERED
    assert len(fake_messaging.sent) == 1 and message.send_attempts == 2


def test_sendgrid_no_answer_waits_for_the_event_webhook(fake_messaging):
    fake_messaging.fail_after_accept = ["drop"]
    message = channels.wait_for(reply(fake_messaging, "email"), DeliveryStatus.DELIVERED)
    # The Event Webhook carried our pd_message_id: the message is settled, never resent.
    assert message.delivery_status == DeliveryStatus.DELIVERED
    assert len(fake_messaging.sent) == 1 and message.send_attempts == 1


def test_meta_no_answer_is_unknown_until_staff_decide(fake_messaging):
    fake_messaging.fail_after_accept = ["drop"]
    message = channels.wait_for(reply(fake_messaging, "facebook"), DeliveryStatus.UNKNOWN)
    assert message.delivery_status == DeliveryStatus.UNKNOWN
    assert "No answer from meta" in message.error_message
    assert len(fake_messaging.sent) == 1
    # Staff decide the customer did not get it: "Send again".
    delivery.requeue_failed_message(message=message, actor=UserFactory(role=Role.AGENT))
    message = channels.wait_for(message, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
    assert message.delivery_status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
    assert len(fake_messaging.sent) == 2


def test_a_second_claim_on_one_message_loses(fake_messaging):
    message = reply(fake_messaging, "sms")
    channels.wait_for(message, DeliveryStatus.DELIVERED)
    TicketMessage.objects.filter(pk=message.pk).update(delivery_status=DeliveryStatus.QUEUED)
    assert delivery.claim_send(message_id=message.pk) == 2
    assert delivery.claim_send(message_id=message.pk) is None
    assert router.deliver(message_id=message.pk).status == DeliveryStatus.SENDING


@pytest.mark.postgres
def test_two_workers_racing_on_one_message_send_it_once(fake_messaging, settings):
    """Real concurrency on PostgreSQL: both workers see it queued; one claims it, one sends."""
    settings.TASKS = {
        "default": {**settings.TASKS["default"], "BACKEND": "django_tasks_db.DatabaseBackend"}
    }
    message = reply(
        fake_messaging, "sms"
    )  # queued: the database backend holds its task, no worker runs it
    fake_messaging.fail_after_accept = ["hang"]  # keeps the winner on the wire a while
    fake_messaging.hang_seconds = 0.5
    start = threading.Barrier(2)
    outcomes = []

    def worker() -> None:
        try:
            start.wait()
            outcomes.append(router.deliver(message_id=message.pk).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == [DeliveryStatus.SENDING, DeliveryStatus.SENT]
    assert len(fake_messaging.sent) == 1
