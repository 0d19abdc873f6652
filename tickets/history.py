"""A ticket's history: one `TicketEvent` row per change (status, priority, assignee, team, tags,
fields, SLA marks, rules, merges, snoozes, macros), written in the transaction of the change.

Tickets' own domain events become rows through the in-transaction subscribers registered here
(`TicketsConfig.ready()`); changes without a domain event (tags, fields, the SLA checker and rule
runs in automation) call `record_ticket_event` directly.
"""

from typing import Any

from accounts.models import Team, User
from core import events as bus
from tickets import events
from tickets.models import HistoryKind, Ticket, TicketEvent


def record_ticket_event(
    *,
    ticket_id: int,
    actor_id: int | None,
    kind: HistoryKind,
    before: Any = None,
    after: Any = None,
    name: str = "",
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket_id=ticket_id,
        actor_id=actor_id,
        kind=kind,
        name=name[:120],
        before=before,
        after=after,
    )


def _user_ref(user_id: int | None) -> dict | None:
    user = User.objects.filter(pk=user_id).first() if user_id else None
    return {"id": user.pk, "name": str(user)} if user else None


def _team_ref(team_id: int | None) -> dict | None:
    team = Team.objects.filter(pk=team_id).first() if team_id else None
    return {"id": team.pk, "name": str(team)} if team else None


def on_status_changed(event: events.TicketStatusChanged) -> None:
    record_ticket_event(
        ticket_id=event.ticket_id,
        actor_id=event.actor_id,
        kind=HistoryKind.STATUS,
        before=event.previous,
        after=event.status,
    )


def on_priority_changed(event: events.TicketPriorityChanged) -> None:
    record_ticket_event(
        ticket_id=event.ticket_id,
        actor_id=event.actor_id,
        kind=HistoryKind.PRIORITY,
        before=event.previous,
        after=event.priority,
    )


def on_assigned(event: events.TicketAssigned) -> None:
    if event.assignee_id != event.previous_assignee_id:
        record_ticket_event(
            ticket_id=event.ticket_id,
            actor_id=event.actor_id,
            kind=HistoryKind.ASSIGNEE,
            before=_user_ref(event.previous_assignee_id),
            after=_user_ref(event.assignee_id),
            name=event.reason,
        )
    if event.team_id != event.previous_team_id:
        record_ticket_event(
            ticket_id=event.ticket_id,
            actor_id=event.actor_id,
            kind=HistoryKind.TEAM,
            before=_team_ref(event.previous_team_id),
            after=_team_ref(event.team_id),
            name=event.reason,
        )


def on_escalated(event: events.TicketEscalated) -> None:
    record_ticket_event(
        ticket_id=event.ticket_id,
        actor_id=event.actor_id,
        kind=HistoryKind.ESCALATED,
        before=event.previous_priority,
        after=event.priority,
    )


def on_merged(event: events.TicketMerged) -> None:
    target = Ticket.objects.filter(pk=event.target_id).values_list("reference", flat=True).first()
    for ticket_id in (event.source_id, event.target_id):
        record_ticket_event(
            ticket_id=ticket_id,
            actor_id=event.actor_id,
            kind=HistoryKind.MERGED,
            before=event.source_reference,
            after=target,
        )


SUBSCRIPTIONS = {
    events.TicketStatusChanged: on_status_changed,
    events.TicketPriorityChanged: on_priority_changed,
    events.TicketAssigned: on_assigned,
    events.TicketEscalated: on_escalated,
    events.TicketMerged: on_merged,
}


def register() -> None:
    for event_type, handler in SUBSCRIPTIONS.items():
        bus.subscribe(event_type, handler, in_transaction=True)
