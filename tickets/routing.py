"""Moving a ticket between people: escalation to a Manager or team, and agent handoffs
(request, accept, decline). Writes; each use case is transactional and publishes an event
(comms notifies the people concerned, analytics records it)."""

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, Team, User
from accounts.permissions import Action, can, require
from core.errors import ApplicationError, Conflict, PermissionDenied
from core.events import publish_on_commit
from tickets import events
from tickets.models import (
    AgentHandoff,
    Escalation,
    HandoffState,
    Ticket,
    TicketPriority,
    TicketStatus,
)
from tickets.services import (
    actor_id_of,
    apply_assignment,
    ensure_can_work_tickets,
    lock_ticket,
    publish_ticket_updated_on_commit,
    record_assignment,
)


def is_manager(user: User) -> bool:
    return user.is_active and (
        user.is_superuser or user.groups.filter(name__in=[Role.MANAGER, Role.ADMIN]).exists()
    )


# Escalation ------------------------------------------------------------------------------------

PRIORITY_ORDER = [
    TicketPriority.LOW,
    TicketPriority.NORMAL,
    TicketPriority.HIGH,
    TicketPriority.URGENT,
]


def next_priority(priority: str) -> str:
    index = PRIORITY_ORDER.index(TicketPriority(priority))
    return PRIORITY_ORDER[min(index + 1, len(PRIORITY_ORDER) - 1)]


@transaction.atomic
def escalate_ticket(
    *,
    ticket: Ticket,
    actor: User,
    reason: str,
    to_user: User | None = None,
    to_team: Team | None = None,
    priority: str | None = None,
) -> Escalation:
    """Raise a ticket to a Manager or a team: priority goes up (one step unless given)."""
    require(actor, Action.ESCALATE_TICKET)
    reason = (reason or "").strip()
    fields: dict[str, list[str]] = {}
    if not reason:
        fields["reason"] = ["Say why the ticket needs escalating."]
    if to_user is None and to_team is None:
        fields["to_user"] = ["Escalate to a manager or a team."]
    elif to_user is not None and not is_manager(to_user):
        fields["to_user"] = ["Escalations go to a Manager or Admin."]
    if priority is not None and priority not in TicketPriority.values:
        fields["priority"] = ["Unknown priority."]
    if fields:
        raise ApplicationError("The escalation is incomplete.", code="invalid", fields=fields)
    ticket = lock_ticket(ticket)
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict("A closed ticket cannot be escalated.", code="ticket_closed")
    previous_priority = ticket.priority
    new_priority = priority or next_priority(previous_priority)
    if PRIORITY_ORDER.index(TicketPriority(new_priority)) < PRIORITY_ORDER.index(
        TicketPriority(previous_priority)
    ):
        new_priority = previous_priority
    escalation = Escalation.objects.create(
        ticket=ticket,
        escalated_by=actor,
        to_user=to_user,
        to_team=to_team,
        reason=reason,
        previous_priority=previous_priority,
        new_priority=new_priority,
    )
    if to_team is not None:
        # The team change goes in the assignment history like any other; TicketEscalated
        # announces it (to_team_id), so no TicketAssigned on top.
        record_assignment(
            ticket=ticket,
            actor=actor,
            assignee=ticket.assignee,
            team=to_team,
            reason=f"Escalated: {reason}",
        )
    ticket.is_escalated = True
    ticket.priority = new_priority
    ticket.save(update_fields=["is_escalated", "priority", "updated_at"])
    publish_on_commit(
        events.TicketEscalated(
            ticket_id=ticket.pk,
            escalation_id=escalation.pk,
            actor_id=actor_id_of(actor),
            to_user_id=getattr(to_user, "pk", None),
            to_team_id=getattr(to_team, "pk", None),
            previous_priority=previous_priority,
            priority=new_priority,
        )
    )
    publish_ticket_updated_on_commit(ticket)
    return escalation


# Handoffs --------------------------------------------------------------------------------------


@transaction.atomic
def request_handoff(
    *,
    ticket: Ticket,
    actor: User,
    reason: str,
    to_agent: User | None = None,
    to_team: Team | None = None,
    is_open: bool = False,
    context_summary: str = "",
) -> AgentHandoff:
    """Ask another agent (or a team) to take over, with a summary of where things stand. An
    open handoff names no one: the first agent who accepts it gets the ticket."""
    require(actor, Action.HANDOFF_TICKET)
    reason = (reason or "").strip()
    fields: dict[str, list[str]] = {}
    if not reason:
        fields["reason"] = ["Say why you are handing off."]
    if is_open:
        if to_agent is not None or to_team is not None:
            fields["to_agent"] = ["An open handoff names no agent or team."]
    elif (to_agent is None) == (to_team is None):
        fields["to_agent"] = ["Hand off to one agent or one team."]
    elif to_agent is not None and to_agent.pk == actor.pk:
        fields["to_agent"] = ["You cannot hand a ticket off to yourself."]
    elif to_agent is not None:
        ensure_can_work_tickets(to_agent, "to_agent")
    if fields:
        raise ApplicationError("The handoff is incomplete.", code="invalid", fields=fields)
    ticket = lock_ticket(ticket)
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict("A closed ticket cannot be handed off.", code="ticket_closed")
    if ticket.assignee_id not in (None, actor.pk) and not can(actor, Action.ASSIGN_TICKET):
        raise PermissionDenied(
            "Only the assignee can hand this ticket off.", code="permission_denied"
        )
    if ticket.handoffs.filter(state=HandoffState.PENDING).exists():
        raise Conflict("This ticket already has a pending handoff.", code="handoff_pending")
    handoff = AgentHandoff.objects.create(
        ticket=ticket,
        from_agent=actor,
        to_agent=to_agent,
        to_team=to_team,
        is_open=is_open,
        reason=reason[:255],
        context_summary=(context_summary or "").strip(),
    )
    ticket.save(update_fields=["updated_at"])
    publish_on_commit(
        events.HandoffRequested(
            ticket_id=ticket.pk,
            handoff_id=handoff.pk,
            actor_id=actor_id_of(actor),
            to_agent_id=getattr(to_agent, "pk", None),
            to_team_id=getattr(to_team, "pk", None),
        )
    )
    publish_ticket_updated_on_commit(ticket)
    return handoff


def _lock_pending_handoff(*, handoff: AgentHandoff, actor: User) -> AgentHandoff:
    require(actor, Action.HANDOFF_TICKET)
    handoff = (
        AgentHandoff.objects.select_for_update(of=("self",))
        .select_related("ticket", "from_agent", "to_team")
        .get(pk=handoff.pk)
    )
    is_target = (
        handoff.is_open
        or handoff.to_agent_id == actor.pk
        or (handoff.to_team_id is not None and handoff.to_team.members.filter(pk=actor.pk).exists())
    )
    if not is_target:
        raise PermissionDenied(
            "This handoff is addressed to someone else.", code="permission_denied"
        )
    if handoff.state != HandoffState.PENDING:
        raise Conflict(f"This handoff was already {handoff.state}.", code="handoff_answered")
    return handoff


@transaction.atomic
def accept_handoff(*, handoff: AgentHandoff, actor: User) -> AgentHandoff:
    """The recipient (for an open handoff, the first agent to take it) takes the ticket over:
    it is reassigned to them."""
    handoff = _lock_pending_handoff(handoff=handoff, actor=actor)
    ticket = lock_ticket(handoff.ticket)
    handoff.state = HandoffState.ACCEPTED
    handoff.responded_by = actor
    handoff.responded_at = timezone.now()
    handoff.save(update_fields=["state", "responded_by", "responded_at"])
    team = handoff.to_team if handoff.to_team_id is not None else ticket.team
    apply_assignment(
        ticket=ticket, actor=actor, assignee=actor, team=team, reason="Handoff accepted"
    )
    publish_on_commit(
        events.HandoffAnswered(
            ticket_id=ticket.pk,
            handoff_id=handoff.pk,
            actor_id=actor_id_of(actor),
            is_accepted=True,
        )
    )
    publish_ticket_updated_on_commit(ticket)
    return handoff


@transaction.atomic
def decline_handoff(*, handoff: AgentHandoff, actor: User, note: str = "") -> AgentHandoff:
    """The recipient says no; the ticket stays where it was. An open handoff has no recipient
    to refuse it: whoever asked (or someone who may assign tickets) withdraws it instead, so an
    offer nobody takes does not block the next handoff."""
    handoff = _lock_pending_handoff(handoff=handoff, actor=actor)
    if handoff.is_open and not (
        handoff.from_agent_id == actor.pk or can(actor, Action.ASSIGN_TICKET)
    ):
        raise Conflict(
            "An open handoff is taken, not declined; whoever asked can withdraw it.",
            code="handoff_open",
        )
    ticket = lock_ticket(handoff.ticket)
    handoff.state = HandoffState.DECLINED
    handoff.responded_by = actor
    handoff.responded_at = timezone.now()
    handoff.response_note = (note or "").strip()[:255]
    handoff.save(update_fields=["state", "responded_by", "responded_at", "response_note"])
    ticket.save(update_fields=["updated_at"])
    publish_on_commit(
        events.HandoffAnswered(
            ticket_id=ticket.pk,
            handoff_id=handoff.pk,
            actor_id=actor_id_of(actor),
            is_accepted=False,
        )
    )
    publish_ticket_updated_on_commit(ticket)
    return handoff
