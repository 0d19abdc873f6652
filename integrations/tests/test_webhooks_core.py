import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from core import queues
from integrations import webhooks
from integrations.models import WebhookEvent, WebhookStatus
from integrations.tests import channels

pytestmark = pytest.mark.django_db


def test_replay_of_same_event_id_is_a_no_op(django_capture_on_commit_callbacks):
    kwargs = dict(provider="twilio", kind="message", raw_body=b"a=1", payload={"a": "1"})
    with django_capture_on_commit_callbacks() as callbacks:
        first = webhooks.record_webhook_event(event_id="SM1", process=False, **kwargs)
        replay = webhooks.record_webhook_event(event_id="SM1", process=False, **kwargs)
    assert not first.is_replay and replay.is_replay
    assert replay.event.pk == first.event.pk
    assert WebhookEvent.objects.count() == 1
    assert callbacks == []


def test_processing_records_handler_failure(monkeypatch):
    def failing_handler(event):
        raise ValueError("bad payload")

    monkeypatch.setitem(webhooks.HANDLERS, "twilio", "builtins.object")
    monkeypatch.setattr(webhooks, "import_string", lambda path: failing_handler)
    recorded = webhooks.record_webhook_event(
        provider="twilio", kind="message", event_id="SM2", raw_body=b"", payload={}, process=False
    )
    with pytest.raises(ValueError):
        webhooks.process_webhook_event.call(event_id=recorded.event.pk)
    event = WebhookEvent.objects.get(pk=recorded.event.pk)
    assert event.status == WebhookStatus.FAILED
    assert "bad payload" in event.error
    assert event.attempts == 1


def test_ingest_commits_the_event_and_its_task_together(
    client, settings, database_tasks, django_capture_on_commit_callbacks
):
    """With the database backend the task row is part of the ingest transaction: nothing is left
    for an on-commit callback, so no crash between two commits can strand a stored event."""
    settings.TWILIO_AUTH_TOKEN = channels.TWILIO_TOKEN
    params = channels.twilio_sms(sid="SM3")
    with django_capture_on_commit_callbacks() as callbacks:
        assert channels.twilio_post(client, "/api/webhooks/twilio", params).status_code == 200
        assert channels.twilio_post(client, "/api/webhooks/twilio", params).status_code == 200
    assert callbacks == []
    event = WebhookEvent.objects.get()
    task = DBTaskResult.objects.get()
    assert task.task_path == "integrations.webhooks.process_webhook_event"
    assert (task.queue_name, task.args_kwargs["kwargs"]) == (
        queues.REALTIME,
        {"event_id": event.pk},
    )
    assert event.status == WebhookStatus.RECEIVED


def test_a_failed_ingest_transaction_stores_neither_event_nor_task(database_tasks):
    with pytest.raises(RuntimeError), transaction.atomic():
        webhooks.record_webhook_event(
            provider="twilio", kind="message", event_id="SM4", raw_body=b"", payload={}
        )
        raise RuntimeError("the view failed after recording")
    assert not WebhookEvent.objects.exists() and not DBTaskResult.objects.exists()
