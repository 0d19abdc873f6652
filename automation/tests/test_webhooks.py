"""Outbound webhooks: a loopback receiver verifies signatures; retries, failures, disabling."""

import hashlib
import hmac
import json
import time

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from automation.models import DeliveryState, WebhookDelivery
from automation.tasks import process_ticket_event
from automation.tests.factories import WebhookEndpointFactory
from automation.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    queue_webhooks,
    sign,
    verify_signature,
)
from comms.models import Notification
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_delivery_is_signed_and_retried_after_a_500(receiver, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpointFactory(url=receiver.url, secret="whsec_test")
    receiver.statuses = [500]
    ticket = TicketFactory(subject="Banner reprint")

    with django_capture_on_commit_callbacks(execute=True):
        process_ticket_event.enqueue(event="ticket.created", ticket_id=ticket.pk)

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.state, delivery.attempts, delivery.response_status) == (
        DeliveryState.SUCCEEDED,
        2,
        200,
    )
    assert len(receiver.calls) == 2
    headers, body = receiver.calls[-1]
    # What a receiver does with nothing but the secret:
    expected = hmac.new(
        b"whsec_test", headers[TIMESTAMP_HEADER].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(headers[SIGNATURE_HEADER], f"v1={expected}")
    assert verify_signature(
        secret="whsec_test",
        timestamp=headers[TIMESTAMP_HEADER],
        body=body,
        signature=headers[SIGNATURE_HEADER],
    )
    document = json.loads(body)
    assert document["event"] == "ticket.created" and document["id"] == delivery.pk
    assert document["data"]["ticket"]["reference"] == ticket.reference
    assert headers["X-Printdesk-Event"] == "ticket.created"


def test_a_receiver_rejects_tampering_wrong_secrets_and_replays(receiver):
    body = b'{"event":"ticket.created"}'
    now = int(time.time())
    signature = sign(secret="k", timestamp=now, body=body)
    assert verify_signature(secret="k", timestamp=str(now), body=body, signature=signature)
    assert not verify_signature(
        secret="k", timestamp=str(now), body=body + b" ", signature=signature
    )
    assert not verify_signature(secret="other", timestamp=str(now), body=body, signature=signature)
    assert not verify_signature(
        secret="k", timestamp=str(now), body=body, signature=signature, now=now + 301
    )
    assert not verify_signature(secret="k", timestamp="soon", body=body, signature=signature)


def test_endpoints_only_get_their_events(receiver, django_capture_on_commit_callbacks):
    WebhookEndpointFactory(url=receiver.url, events=["csat.received"])
    WebhookEndpointFactory(url=receiver.url, is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        process_ticket_event.enqueue(event="ticket.created", ticket_id=TicketFactory().pk)
    assert receiver.calls == [] and not WebhookDelivery.objects.exists()


def test_a_client_error_is_not_retried(receiver, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    receiver.statuses = [410]
    with django_capture_on_commit_callbacks(execute=True):
        queue_webhooks(event="ticket.created", payload={"ticket": {}})
    delivery = WebhookDelivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("failed", 1, 410)
    assert "HTTP 410" in delivery.error
    endpoint.refresh_from_db()
    assert endpoint.failure_count == 1 and endpoint.is_active


def test_an_endpoint_that_keeps_failing_is_disabled_and_admins_are_told(
    receiver, settings, django_capture_on_commit_callbacks
):
    settings.AUTOMATION_WEBHOOK_MAX_ATTEMPTS = 2
    settings.AUTOMATION_WEBHOOK_DISABLE_AFTER = 2
    admin = UserFactory(role=Role.ADMIN)
    endpoint = WebhookEndpointFactory(url=receiver.url, name="ERP bridge")
    receiver.statuses = [503] * 4

    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            queue_webhooks(event="ticket.updated", payload={"ticket": {}})

    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert endpoint.failure_count == 2
    assert len(receiver.calls) == 4  # a disabled endpoint gets no third delivery
    states = list(WebhookDelivery.objects.order_by("pk").values_list("state", "attempts"))
    assert states == [("failed", 2), ("failed", 2)]
    notice = Notification.objects.get(recipient=admin)
    assert notice.title == "Webhook endpoint “ERP bridge” was disabled"


def test_a_connection_error_is_recorded(django_capture_on_commit_callbacks, settings):
    settings.AUTOMATION_WEBHOOK_MAX_ATTEMPTS = 1
    WebhookEndpointFactory(url="http://127.0.0.1:9/closed")
    with django_capture_on_commit_callbacks(execute=True):
        queue_webhooks(event="ticket.created", payload={})
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "failed" and delivery.response_status is None
    assert "ConnectionError" in delivery.error


def test_admin_retries_failed_deliveries(receiver, client, django_capture_on_commit_callbacks):
    WebhookEndpointFactory(url=receiver.url)
    receiver.statuses = [400]
    with django_capture_on_commit_callbacks(execute=True):
        queue_webhooks(event="ticket.created", payload={})
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "failed"
    client.force_login(UserFactory(role=Role.ADMIN))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/automation/webhookdelivery/",
            {"action": "retry", "_selected_action": [delivery.pk]},
        )

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("succeeded", 1, 200)
