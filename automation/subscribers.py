"""How automation reacts to domain events: each ticket event becomes a `process_ticket_event`
task (SLA refresh, rules, outbound webhooks) queued after commit. The handlers run inside the
publisher's transaction so the task carries the rule-chain origin of the action that caused the
event (`automation.dispatch.rule_origin`). Registered in `AutomationConfig.ready()`."""

from analytics.events import CsatAnswered
from automation.dispatch import TicketEventKind, dispatch_event_on_commit
from core import events as bus
from tickets import events


def on_ticket_created(event: events.TicketCreated) -> None:
    # An auto-reply (out of office) is never answered: rules answering it would loop with it.
    dispatch_event_on_commit(
        event=TicketEventKind.TICKET_CREATED,
        ticket_id=event.ticket_id,
        run_rules=not event.by_auto_reply,
    )


def on_message_received(event: events.MessageReceived) -> None:
    dispatch_event_on_commit(
        event=TicketEventKind.MESSAGE_RECEIVED,
        ticket_id=event.ticket_id,
        message_id=event.message_id,
        run_rules=not event.is_auto_reply,
    )


def on_message_queued(event: events.MessageQueued) -> None:
    dispatch_event_on_commit(
        event=TicketEventKind.MESSAGE_SENT, ticket_id=event.ticket_id, message_id=event.message_id
    )


def on_ticket_updated(
    event: events.TicketStatusChanged
    | events.TicketPriorityChanged
    | events.TicketAssigned
    | events.TicketEscalated
    | events.TicketTagsChanged
    | events.TicketFieldChanged,
) -> None:
    dispatch_event_on_commit(event=TicketEventKind.TICKET_UPDATED, ticket_id=event.ticket_id)


def on_csat_answered(event: CsatAnswered) -> None:
    dispatch_event_on_commit(event=TicketEventKind.CSAT_RECEIVED, ticket_id=event.ticket_id)


SUBSCRIPTIONS = {
    events.TicketCreated: on_ticket_created,
    events.MessageReceived: on_message_received,
    events.MessageQueued: on_message_queued,
    events.TicketStatusChanged: on_ticket_updated,
    events.TicketPriorityChanged: on_ticket_updated,
    events.TicketAssigned: on_ticket_updated,
    events.TicketEscalated: on_ticket_updated,
    events.TicketTagsChanged: on_ticket_updated,
    events.TicketFieldChanged: on_ticket_updated,
    CsatAnswered: on_csat_answered,
}


def register() -> None:
    for event_type, handler in SUBSCRIPTIONS.items():
        bus.subscribe(event_type, handler, in_transaction=True)
