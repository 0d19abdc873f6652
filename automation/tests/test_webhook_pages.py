"""Staff pages for outbound webhooks (issue 23): list, create/edit with URL and event validation,
the secret shown once then masked, rotation, a signed test event, recent deliveries, permissions."""

import pytest
from django.test import Client

from accounts.models import AuditLogEntry, Role
from accounts.tests.factories import UserFactory
from automation.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from automation.tests.factories import WebhookEndpointFactory
from automation.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


ENDPOINT = {
    "name": "Warehouse",
    "url": "https://warehouse.example.com/hooks",
    "events": ["ticket.created", "csat.received"],
    "is_active": "on",
}


def test_list_shows_endpoints_events_and_state(manager_client):
    WebhookEndpointFactory(name="CRM", events=["ticket.created"])
    WebhookEndpointFactory(name="Broken", is_active=False, disabled_at="2026-11-20T10:00:00Z")
    html = manager_client.get("/automation/webhooks/").content.decode()
    assert "CRM" in html and "ticket.created" in html
    assert "Disabled after failures" in html
    assert "s3cret-for-tests" not in html


def test_create_generates_a_secret_shown_once_then_masked(manager_client, manager):
    response = manager_client.post("/automation/webhooks/new/", ENDPOINT)
    html = response.content.decode()
    endpoint = WebhookEndpoint.objects.get(name="Warehouse")
    assert response.status_code == 200
    assert len(endpoint.secret) == 64
    assert 'id="webhook-secret-once"' in html and endpoint.secret in html
    assert endpoint.events == ["ticket.created", "csat.received"]
    assert AuditLogEntry.objects.filter(
        action="automation.webhook_created", actor=manager, target_id=str(endpoint.pk)
    ).exists()

    later = manager_client.get(f"/automation/webhooks/{endpoint.pk}/").content.decode()
    assert endpoint.secret not in later
    assert f"••••••••{endpoint.secret[-4:]}" in later


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"url": "ftp://warehouse.example.com/hooks"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"events": []}, "events"),
        ({"events": ["ticket.deleted"]}, "events"),
    ],
)
def test_invalid_urls_and_events_are_refused(manager_client, overrides, field):
    response = manager_client.post("/automation/webhooks/new/", {**ENDPOINT, **overrides})
    assert response.status_code == 200
    assert f'id="{field}-errors"' in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_edit_keeps_the_secret_and_reactivating_resets_failures(manager_client):
    endpoint = WebhookEndpointFactory(
        is_active=False, failure_count=5, disabled_at="2026-11-20T10:00:00Z"
    )
    response = manager_client.post(f"/automation/webhooks/{endpoint.pk}/", ENDPOINT)
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url == "https://warehouse.example.com/hooks"
    assert endpoint.secret == "s3cret-for-tests"
    assert (endpoint.is_active, endpoint.failure_count, endpoint.disabled_at) == (True, 0, None)


def test_rotate_secret_shows_the_new_one_once(manager_client):
    endpoint = WebhookEndpointFactory()
    response = manager_client.post(f"/automation/webhooks/{endpoint.pk}/rotate-secret/")
    endpoint.refresh_from_db()
    assert endpoint.secret != "s3cret-for-tests" and len(endpoint.secret) == 64
    assert endpoint.secret in response.content.decode()
    assert AuditLogEntry.objects.filter(action="automation.webhook_secret_rotated").exists()


def test_send_a_test_event_delivers_a_signed_test_and_lists_it(
    manager_client, receiver, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpointFactory(url=receiver.url, secret="whsec_test")
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(f"/automation/webhooks/{endpoint.pk}/test/")
    assert response.status_code == 302
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.event, delivery.state, delivery.response_status) == (
        "webhook.test",
        DeliveryState.SUCCEEDED,
        200,
    )
    headers, body = receiver.calls[0]
    assert headers["X-Printdesk-Event"] == "webhook.test"
    assert verify_signature(
        secret="whsec_test",
        timestamp=headers[TIMESTAMP_HEADER],
        body=body,
        signature=headers[SIGNATURE_HEADER],
    )
    html = manager_client.get(f"/automation/webhooks/{endpoint.pk}/").content.decode()
    assert f'id="delivery-{delivery.pk}"' in html and "Succeeded" in html


def test_a_failed_delivery_shows_its_status_and_error(manager_client):
    endpoint = WebhookEndpointFactory()
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event="ticket.created",
        payload={},
        state=DeliveryState.FAILED,
        attempts=5,
        response_status=500,
        error="HTTP 500: boom",
    )
    html = manager_client.get(f"/automation/webhooks/{endpoint.pk}/").content.decode()
    assert "Failed" in html and "<td>500</td>" in html and "HTTP 500: boom" in html


def test_testing_an_inactive_endpoint_is_refused(manager_client):
    endpoint = WebhookEndpointFactory(is_active=False)
    response = manager_client.post(f"/automation/webhooks/{endpoint.pk}/test/", follow=True)
    assert "Activate the endpoint first" in response.content.decode()
    assert not WebhookDelivery.objects.exists()


def test_agents_get_403_and_unknown_endpoints_404(manager_client):
    endpoint = WebhookEndpointFactory()
    agent = Client()
    agent.force_login(UserFactory(role=Role.AGENT))
    assert agent.get("/automation/webhooks/").status_code == 403
    assert agent.get(f"/automation/webhooks/{endpoint.pk}/").status_code == 403
    assert agent.post("/automation/webhooks/new/", ENDPOINT).status_code == 403
    assert agent.post(f"/automation/webhooks/{endpoint.pk}/rotate-secret/").status_code == 403
    assert agent.post(f"/automation/webhooks/{endpoint.pk}/test/").status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.secret == "s3cret-for-tests"
    assert not WebhookDelivery.objects.exists()
    assert manager_client.get("/automation/webhooks/999999/").status_code == 404
    assert manager_client.post("/automation/webhooks/999999/test/").status_code == 404
