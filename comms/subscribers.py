"""How comms reacts to the domain events of tickets: the people concerned get an in-app
notification (stored in the publisher's transaction, pushed to their sockets after commit), and
the ticket cards of its chat discussions are re-sent after a status, priority or assignee change.
Registered in `CommsConfig.ready()`."""

from accounts.models import User
from accounts.permissions import Action
from accounts.selectors import list_active_staff_by_username
from comms.live import publish_message_on_commit
from comms.models import NotificationKind
from comms.selectors import list_discussion_roots
from comms.services import notify_user
from core import events as bus
from core.mentions import parse_mentions
from tickets import events
from tickets.models import AgentHandoff, Ticket
from tickets.selectors import get_internal_note
from tickets.services import ticket_url


def _user(user_id: int | None) -> User | None:
    return User.objects.filter(pk=user_id).first() if user_id is not None else None


def _recipients(*, user_id: int | None, team_id: int | None) -> list[User]:
    if user_id is not None:
        return [user] if (user := _user(user_id)) is not None else []
    if team_id is not None:
        return list(User.objects.filter(teams__pk=team_id, is_active=True))
    return []


def notify_assignee(event: events.TicketAssigned) -> None:
    assignee = _user(event.assignee_id)
    if assignee is None:
        return
    ticket = Ticket.objects.get(pk=event.ticket_id)
    notify_user(
        recipient=assignee,
        kind=NotificationKind.ASSIGNMENT,
        title=f"{ticket.reference} was assigned to you",
        body=ticket.subject,
        url=ticket_url(ticket),
        actor=_user(event.actor_id),
    )


def notify_escalation(event: events.TicketEscalated) -> None:
    recipients = _recipients(user_id=event.to_user_id, team_id=event.to_team_id)
    if not recipients:
        return
    ticket = Ticket.objects.get(pk=event.ticket_id)
    reason = ticket.escalations.get(pk=event.escalation_id).reason
    actor = _user(event.actor_id)
    for recipient in recipients:
        notify_user(
            recipient=recipient,
            kind=NotificationKind.ESCALATION,
            title=f"{ticket.reference} was escalated: {ticket.subject}"[:255],
            body=reason,
            url=ticket_url(ticket),
            actor=actor,
        )


def notify_handoff_requested(event: events.HandoffRequested) -> None:
    recipients = _recipients(user_id=event.to_agent_id, team_id=event.to_team_id)
    if not recipients:
        return
    handoff = AgentHandoff.objects.select_related("ticket", "from_agent").get(pk=event.handoff_id)
    for recipient in recipients:
        notify_user(
            recipient=recipient,
            kind=NotificationKind.HANDOFF,
            title=f"{handoff.from_agent} asks you to take {handoff.ticket.reference}",
            body=f"{handoff.reason}\n\n{handoff.context_summary}".strip(),
            url=ticket_url(handoff.ticket),
            actor=handoff.from_agent,
        )


def notify_handoff_answered(event: events.HandoffAnswered) -> None:
    handoff = AgentHandoff.objects.select_related("ticket", "from_agent", "responded_by").get(
        pk=event.handoff_id
    )
    if handoff.from_agent is None:
        return
    verb = "accepted" if event.is_accepted else "declined"
    notify_user(
        recipient=handoff.from_agent,
        kind=NotificationKind.HANDOFF,
        title=f"{handoff.responded_by} {verb} {handoff.ticket.reference}",
        body="" if event.is_accepted else handoff.response_note,
        url=ticket_url(handoff.ticket),
        actor=handoff.responded_by,
    )


def refresh_discussion_cards(
    event: events.TicketStatusChanged
    | events.TicketPriorityChanged
    | events.TicketAssigned
    | events.HandoffAnswered,
) -> None:
    """Chat shows the ticket's card on each discussion root: re-send the roots so open chat
    pages re-render the card (the frame reads the ticket as committed)."""
    for root in list_discussion_roots(ticket_id=event.ticket_id):
        publish_message_on_commit(root)


def notify_note_mentions(event: events.NoteAdded) -> None:
    """Each staff member an internal note @mentions is notified, as chat mentions are: only
    active staff who may see tickets (`tickets.view_ticket`), never the author. Customers are
    not users, so no mention can reach one."""
    note = get_internal_note(note_id=event.note_id)
    names = parse_mentions(note.body)
    if not names:
        return
    ticket = note.ticket
    author_name = note.author.short_name if note.author else "Printdesk"
    for recipient in list_active_staff_by_username(usernames=names, action=Action.VIEW_TICKETS):
        notify_user(
            recipient=recipient,
            kind=NotificationKind.MENTION,
            title=f"{author_name} mentioned you on {ticket.reference}: {ticket.subject}",
            body=note.body[:500],
            url=f"{ticket_url(ticket)}#note-{note.pk}",
            actor=note.author,
        )


SUBSCRIPTIONS = {
    events.TicketAssigned: notify_assignee,
    events.TicketEscalated: notify_escalation,
    events.HandoffRequested: notify_handoff_requested,
    events.HandoffAnswered: notify_handoff_answered,
    events.NoteAdded: notify_note_mentions,
}


# After commit: a live frame only, nothing that must commit with the change.
AFTER_COMMIT = {
    events.TicketStatusChanged: refresh_discussion_cards,
    events.TicketPriorityChanged: refresh_discussion_cards,
    events.TicketAssigned: refresh_discussion_cards,
    # A handoff offered in a channel was taken: its card turns to "Taken by …".
    events.HandoffAnswered: refresh_discussion_cards,
}


def register() -> None:
    for event_type, handler in SUBSCRIPTIONS.items():
        bus.subscribe(event_type, handler, in_transaction=True)
    for event_type, handler in AFTER_COMMIT.items():
        bus.subscribe(event_type, handler)
