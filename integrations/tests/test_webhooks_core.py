import pytest

from integrations import webhooks
from integrations.models import WebhookEvent, WebhookStatus

pytestmark = pytest.mark.django_db


def test_replay_of_same_event_id_is_a_no_op(django_capture_on_commit_callbacks):
    kwargs = dict(provider="twilio", kind="message", raw_body="a=1", payload={"a": "1"})
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
        provider="twilio", kind="message", event_id="SM2", raw_body="", payload={}, process=False
    )
    with pytest.raises(ValueError):
        webhooks.process_webhook_event.call(event_id=recorded.event.pk)
    event = WebhookEvent.objects.get(pk=recorded.event.pk)
    assert event.status == WebhookStatus.FAILED
    assert "bad payload" in event.error
    assert event.attempts == 1
