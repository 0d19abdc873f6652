"""How analytics reacts to the domain events of the apps below it: each event becomes a row of
the analytics trail inside the publisher's transaction (so it commits or rolls back with the
change), conversation logs follow a ticket to and from solved/closed, and a solved ticket gets
its CSAT survey scheduled after commit. The events that change a report figure also mark their
tickets for the daily rollups, in the same transaction, and enqueue the bulk task that
recomputes those days after commit (analytics.rollups). Registered in `AnalyticsConfig.ready()`."""

from django.db import transaction
from django.utils import timezone

from accounts.events import StaffActionTaken
from analytics import events as analytics_events
from analytics.rollups import mark_day_dirty, mark_tickets_dirty
from analytics.services import record, refresh_conversation_log, schedule_csat_survey
from analytics.tasks import refresh_analytics_rollups
from comms.events import ChatActivity
from core import events as bus
from tickets import events
from tickets.models import (
    AgentHandoff,
    Customer,
    Escalation,
    InternalNote,
    SavedReply,
    Ticket,
    TicketAssignment,
    TicketMessage,
    TicketStatus,
)


def _label(model) -> str:
    return model._meta.label_lower


def record_customer_created(event: events.CustomerCreated) -> None:
    record(
        name="customer.created",
        subject_type=_label(Customer),
        subject_id=event.customer_id,
        properties={"via": event.via},
    )


def record_customer_linked(event: events.CustomerLinked) -> None:
    record(
        name="customer.linked" if event.external_id else "customer.unlinked",
        actor_id=event.actor_id,
        subject_type=_label(Customer),
        subject_id=event.customer_id,
        properties={
            "provider": event.provider,
            "external_id": event.external_id,
            "manual": event.is_manual,
        },
    )


def record_consent_changed(event: events.ConsentChanged) -> None:
    record(
        name="customer.opted_out" if event.is_opted_out else "customer.opted_in",
        actor_id=event.actor_id,
        subject_type=_label(Customer),
        subject_id=event.customer_id,
        properties={"identity_id": event.identity_id, "kind": event.kind, "reason": event.reason},
    )


def record_customer_field_changed(event: events.CustomerFieldChanged) -> None:
    record(
        name="customer.field_changed",
        actor_id=event.actor_id,
        subject_type=_label(Customer),
        subject_id=event.customer_id,
        properties={"field": event.key, "from": event.previous, "to": event.value},
    )


def record_customers_merged(event: events.CustomersMerged) -> None:
    record(
        name="customer.merged",
        actor_id=event.actor_id,
        subject_type=_label(Customer),
        subject_id=event.target_id,
        properties={
            "source": event.source_id,
            "identities": event.identities,
            "tickets": event.tickets,
        },
    )


def record_ticket_created(event: events.TicketCreated) -> None:
    record(
        name="ticket.created",
        actor_id=event.actor_id,
        ticket_id=event.ticket_id,
        properties={"channel": event.channel, "follow_up_of": event.follow_up_of},
    )


def record_message_received(event: events.MessageReceived) -> None:
    record(
        name="message.received",
        ticket_id=event.ticket_id,
        subject_type=_label(TicketMessage),
        subject_id=event.message_id,
        properties={"channel": event.channel, "reopened": event.reopened},
    )
    if event.reopened:
        record(name="ticket.reopened", ticket_id=event.ticket_id, properties={"by": "customer"})
        refresh_conversation_log(ticket=Ticket.objects.get(pk=event.ticket_id))


def record_message_queued(event: events.MessageQueued) -> None:
    if event.is_system:
        name, properties = "message.automated", {"channel": event.channel}
    else:
        name, properties = (
            "ticket.replied",
            {"channel": event.channel, "automated": event.is_automated},
        )
    record(
        name=name,
        actor_id=event.author_id,
        ticket_id=event.ticket_id,
        subject_type=_label(TicketMessage),
        subject_id=event.message_id,
        properties=properties,
    )


def record_message_skipped(event: events.MessageSkipped) -> None:
    record(
        name="message.skipped",
        ticket_id=event.ticket_id,
        subject_type=_label(TicketMessage),
        subject_id=event.message_id,
        properties={"channel": event.channel, "code": event.code},
    )


def record_requeued(event: events.MessageRequeued) -> None:
    record(
        name="message.retried",
        actor_id=event.actor_id,
        ticket_id=event.ticket_id,
        subject_type=_label(TicketMessage),
        subject_id=event.message_id,
    )


def record_delivery_changed(event: events.MessageDeliveryChanged) -> None:
    record(
        name="message.delivery_status",
        ticket_id=event.ticket_id,
        subject_type=_label(TicketMessage),
        subject_id=event.message_id,
        properties={"status": event.status, "reported": event.reported},
    )


def record_status_changed(event: events.TicketStatusChanged) -> None:
    record(
        name="ticket.status_changed",
        actor_id=event.actor_id,
        ticket_id=event.ticket_id,
        properties={"from": event.previous, "to": event.status},
    )
    if event.previous == TicketStatus.SOLVED and event.status == TicketStatus.OPEN:
        record(
            name="ticket.reopened",
            actor_id=event.actor_id,
            ticket_id=event.ticket_id,
            properties={"by": "staff"},
        )
    closed = TicketStatus.CLOSED_STATES
    if event.status in closed or event.previous in closed:
        refresh_conversation_log(ticket=Ticket.objects.get(pk=event.ticket_id))


def schedule_survey(event: events.TicketSolved) -> None:
    schedule_csat_survey(ticket_id=event.ticket_id)


def record_priority_changed(event: events.TicketPriorityChanged) -> None:
    record(
        name="ticket.priority_changed",
        actor_id=event.actor_id,
        ticket_id=event.ticket_id,
        properties={"from": event.previous, "to": event.priority},
    )


def record_tags_changed(event: events.TicketTagsChanged) -> None:
    record(
        name="ticket.tags_changed",
        actor_id=event.actor_id,
        ticket_id=event.ticket_id,
        properties={"from": list(event.previous), "to": list(event.tags)},
    )


def record_field_changed(event: events.TicketFieldChanged) -> None:
    record(
        name="ticket.field_changed",
        actor_id=event.actor_id,
        ticket_id=event.ticket_id,
        properties={"field": event.key, "from": event.previous, "to": event.value},
    )


def record_note_added(event: events.NoteAdded) -> None:
    record(
        name="ticket.note_added",
        actor_id=event.actor_id,
        ticket_id=event.ticket_id,
        subject_type=_label(InternalNote),
        subject_id=event.note_id,
    )


def record_assigned(event: events.TicketAssigned) -> None:
    record(
        name="ticket.assigned",
        actor_id=event.actor_id,
        ticket_id=event.ticket_id,
        subject_type=_label(TicketAssignment),
        subject_id=event.assignment_id,
        properties={
            "to_agent": event.assignee_id,
            "to_team": event.team_id,
            "reason": event.reason,
        },
    )


def record_escalated(event: events.TicketEscalated) -> None:
    record(
        name="ticket.escalated",
        actor_id=event.actor_id,
        ticket_id=event.ticket_id,
        subject_type=_label(Escalation),
        subject_id=event.escalation_id,
        properties={
            "to_user": event.to_user_id,
            "to_team": event.to_team_id,
            "from_priority": event.previous_priority,
            "to_priority": event.priority,
        },
    )


def record_handoff_requested(event: events.HandoffRequested) -> None:
    record(
        name="ticket.handoff_requested",
        actor_id=event.actor_id,
        ticket_id=event.ticket_id,
        subject_type=_label(AgentHandoff),
        subject_id=event.handoff_id,
        properties={"to_agent": event.to_agent_id, "to_team": event.to_team_id},
    )


def record_handoff_answered(event: events.HandoffAnswered) -> None:
    record(
        name="ticket.handoff_accepted" if event.is_accepted else "ticket.handoff_declined",
        actor_id=event.actor_id,
        ticket_id=event.ticket_id,
        subject_type=_label(AgentHandoff),
        subject_id=event.handoff_id,
    )


def record_ticket_merged(event: events.TicketMerged) -> None:
    refresh_conversation_log(ticket=Ticket.objects.get(pk=event.source_id))
    record(
        name="ticket.merged",
        actor_id=event.actor_id,
        ticket_id=event.target_id,
        subject_type=_label(Ticket),
        subject_id=event.source_id,
        properties={
            "source": event.source_reference,
            "messages": event.messages,
            "notes": event.notes,
        },
    )


def record_saved_reply_changed(event: events.SavedReplyChanged) -> None:
    record(
        name=f"saved_reply.{event.change}",
        actor_id=event.actor_id,
        subject_type=_label(SavedReply),
        subject_id=event.saved_reply_id,
    )


def record_activity(event: StaffActionTaken | ChatActivity) -> None:
    record(
        name=event.name,
        actor_id=event.actor_id,
        subject_type=event.subject_type,
        subject_id=event.subject_id,
        properties=event.properties,
    )


def _enqueue_rollup_refresh() -> None:
    refresh_analytics_rollups.enqueue()


def mark_rollups_dirty(event) -> None:
    """Queue the ticket's rollup days for recomputation (idempotent: a day is recomputed whole)."""
    if isinstance(event, events.TicketMerged):
        ticket_ids = [event.source_id, event.target_id]
    else:
        ticket_ids = [event.ticket_id]
    mark_tickets_dirty(ticket_ids=ticket_ids)
    if isinstance(event, events.TicketDueChanged) and event.previous_due_at is not None:
        mark_day_dirty(day=timezone.localdate(event.previous_due_at))
    transaction.on_commit(_enqueue_rollup_refresh, robust=True)


# Events that move a report figure: creation, customer messages (heatmap), the first reply,
# status (solves, reopens, SLA), the SLA deadline, team and assignee, merges, surveys.
ROLLUP_EVENTS = [
    events.TicketCreated,
    events.TicketDueChanged,
    events.MessageReceived,
    events.MessageQueued,
    events.TicketStatusChanged,
    events.TicketAssigned,
    events.TicketEscalated,
    events.TicketMerged,
    analytics_events.CsatSurveySent,
    analytics_events.CsatAnswered,
]

IN_TRANSACTION = {
    StaffActionTaken: record_activity,
    ChatActivity: record_activity,
    events.CustomerCreated: record_customer_created,
    events.CustomerLinked: record_customer_linked,
    events.CustomersMerged: record_customers_merged,
    events.CustomerFieldChanged: record_customer_field_changed,
    events.ConsentChanged: record_consent_changed,
    events.TicketCreated: record_ticket_created,
    events.MessageReceived: record_message_received,
    events.MessageQueued: record_message_queued,
    events.MessageSkipped: record_message_skipped,
    events.MessageRequeued: record_requeued,
    events.MessageDeliveryChanged: record_delivery_changed,
    events.TicketStatusChanged: record_status_changed,
    events.TicketPriorityChanged: record_priority_changed,
    events.TicketTagsChanged: record_tags_changed,
    events.TicketFieldChanged: record_field_changed,
    events.NoteAdded: record_note_added,
    events.TicketAssigned: record_assigned,
    events.TicketEscalated: record_escalated,
    events.HandoffRequested: record_handoff_requested,
    events.HandoffAnswered: record_handoff_answered,
    events.TicketMerged: record_ticket_merged,
    events.SavedReplyChanged: record_saved_reply_changed,
}


def register() -> None:
    for event_type, handler in IN_TRANSACTION.items():
        bus.subscribe(event_type, handler, in_transaction=True)
    for event_type in ROLLUP_EVENTS:
        bus.subscribe(event_type, mark_rollups_dirty, in_transaction=True)
    bus.subscribe(events.TicketSolved, schedule_survey)
