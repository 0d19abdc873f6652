"""Inbound events that failed processing are run again from the admin (an action on the webhook
event list) or `reprocess_webhooks`, idempotently: twice still makes one message."""

import io

import pytest
from django.core.management import call_command

from integrations.models import WebhookEvent, WebhookStatus
from integrations.webhooks import record_webhook_event
from tickets.models import TicketMessage

pytestmark = pytest.mark.django_db

EMAIL = {
    "from": "Jane <jane@example.com>",
    "subject": "Banners",
    "text": "Do you print 3m banners?",
    "headers": "Message-ID: <r1@example.com>\n",
    "message_id": "<r1@example.com>",
    "dkim": "{@example.com : pass}",
    "SPF": "pass",
}
POSTBACK = {
    "object": "page",
    "entry_id": "PAGE_ID",
    "messaging": {
        "sender": {"id": "5151"},
        "recipient": {"id": "PAGE_ID"},
        "timestamp": 1,
        "postback": {"mid": "m_pb_9", "title": "Track my order", "payload": "TRACK"},
    },
}


def failed(provider: str, kind: str, event_id: str, payload: dict) -> WebhookEvent:
    """An event stored as failed (the handler raised when it first ran)."""
    return record_webhook_event(
        provider=provider,
        kind=kind,
        event_id=event_id,
        raw_body=b"{}",
        payload=payload,
        failure="OperationalError: database is locked",
    ).event


def test_admin_action_reprocesses_a_failed_email_once(
    admin_client, django_capture_on_commit_callbacks
):
    event = failed("sendgrid", "inbound", EMAIL["message_id"], EMAIL)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                "/admin/integrations/webhookevent/",
                {"action": "reprocess", "_selected_action": [event.pk]},
                follow=True,
            )
        assert response.status_code == 200
    event.refresh_from_db()
    assert event.status == WebhookStatus.PROCESSED
    assert TicketMessage.objects.get().body == "Do you print 3m banners?"


def test_command_reprocesses_a_failed_postback_once(django_capture_on_commit_callbacks):
    event = failed("meta", "postback", "m_pb_9", POSTBACK)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            call_command("reprocess_webhooks", "--id", str(event.pk), stdout=io.StringIO())
    event.refresh_from_db()
    assert event.status == WebhookStatus.PROCESSED
    assert list(TicketMessage.objects.values_list("body", flat=True)) == ["Track my order"]
