"""Each automation subscriber turns a domain event into a `process_ticket_event` task after
commit, carrying the rule-chain origin it was published under."""

from unittest import mock

import pytest

from analytics.events import CsatAnswered
from automation import subscribers
from automation.dispatch import TicketEventKind, rule_origin
from tickets import events

pytestmark = pytest.mark.django_db

UPDATES = [
    events.TicketStatusChanged(ticket_id=5, actor_id=None, previous="open", status="pending"),
    events.TicketPriorityChanged(ticket_id=5, actor_id=None, previous="low", priority="high"),
    events.TicketAssigned(
        ticket_id=5, assignment_id=1, actor_id=None, assignee_id=None, team_id=None, reason=""
    ),
    events.TicketEscalated(
        ticket_id=5,
        escalation_id=1,
        actor_id=None,
        to_user_id=None,
        to_team_id=2,
        previous_priority="low",
        priority="normal",
    ),
]


@pytest.fixture
def enqueued():
    with mock.patch("automation.tasks.process_ticket_event") as task:
        yield task.enqueue


def _handler(event):
    return subscribers.SUBSCRIPTIONS[type(event)]


CASES = [
    (
        events.TicketCreated(ticket_id=5, actor_id=None, channel="sms", follow_up_of=None),
        TicketEventKind.TICKET_CREATED,
        None,
    ),
    (
        events.MessageReceived(ticket_id=5, message_id=9, channel="sms", reopened=False),
        TicketEventKind.MESSAGE_RECEIVED,
        9,
    ),
    (
        events.MessageQueued(
            ticket_id=5,
            message_id=9,
            channel="sms",
            author_id=None,
            is_automated=True,
            is_system=True,
        ),
        TicketEventKind.MESSAGE_SENT,
        9,
    ),
    (CsatAnswered(ticket_id=5, survey_id=3, rating=2), TicketEventKind.CSAT_RECEIVED, None),
    *[(update, TicketEventKind.TICKET_UPDATED, None) for update in UPDATES],
]


@pytest.mark.parametrize(("event", "kind", "message_id"), CASES)
def test_each_event_becomes_its_ticket_event_task_after_commit(
    event, kind, message_id, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _handler(event)(event)
        enqueued.assert_not_called()
    enqueued.assert_called_once_with(
        event=str(kind),
        ticket_id=5,
        message_id=message_id,
        depth=0,
        skip_rule_ids=[],
        run_rules=True,
    )


@pytest.mark.parametrize(
    "event",
    [
        events.TicketCreated(
            ticket_id=5, actor_id=None, channel="email", follow_up_of=None, by_auto_reply=True
        ),
        events.MessageReceived(
            ticket_id=5, message_id=9, channel="email", reopened=False, is_auto_reply=True
        ),
    ],
)
def test_an_auto_reply_runs_no_rules(event, enqueued, django_capture_on_commit_callbacks):
    """An out-of-office answered by a rule would answer back: SLA and webhooks only."""
    with django_capture_on_commit_callbacks(execute=True):
        _handler(event)(event)
    assert enqueued.call_args.kwargs["run_rules"] is False


def test_an_event_a_rule_caused_carries_its_origin(enqueued, django_capture_on_commit_callbacks):
    event = UPDATES[0]
    with (
        django_capture_on_commit_callbacks(execute=True),
        rule_origin(depth=1, rule_ids=frozenset({4, 2})),
    ):
        _handler(event)(event)
    enqueued.assert_called_once_with(
        event="ticket.updated",
        ticket_id=5,
        message_id=None,
        depth=2,
        skip_rule_ids=[2, 4],
        run_rules=True,
    )
