"""The integrations subscriber hands a queued outbound message to the delivery task."""

from dataclasses import replace
from unittest import mock

import pytest

from core.events import publish_on_commit
from integrations import subscribers
from tickets import events
from tickets.tests.factories import OutboundMessageFactory

pytestmark = pytest.mark.django_db

QUEUED = events.MessageQueued(
    ticket_id=1, message_id=42, channel="sms", author_id=None, is_automated=True, is_system=True
)


def test_a_queued_message_is_handed_to_the_delivery_task():
    with mock.patch("integrations.subscribers.deliver_ticket_message") as task:
        subscribers.enqueue_delivery(QUEUED)
    task.enqueue.assert_called_once_with(message_id=42)


def test_delivery_is_enqueued_only_after_commit(django_capture_on_commit_callbacks):
    message = OutboundMessageFactory()
    queued = replace(QUEUED, ticket_id=message.ticket_id, message_id=message.pk)
    with (
        mock.patch("integrations.subscribers.deliver_ticket_message") as task,
        django_capture_on_commit_callbacks(execute=True),
    ):
        publish_on_commit(queued)
        task.enqueue.assert_not_called()
    task.enqueue.assert_called_once_with(message_id=message.pk)


def test_a_failed_message_sent_again_is_handed_to_the_delivery_task():
    requeued = events.MessageRequeued(ticket_id=1, message_id=42, actor_id=None)
    with mock.patch("integrations.subscribers.deliver_ticket_message") as task:
        subscribers.enqueue_delivery(requeued)
    task.enqueue.assert_called_once_with(message_id=42)
