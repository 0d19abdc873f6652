"""Snooze: a ticket leaves the working inbox views until a time or until the customer replies,
then comes back marked (`woke_at`). The periodic check (`wake_due_snoozes`, run with the SLA
checks) wakes timed ones; any customer message wakes a snoozed ticket
(`record_inbound_message`)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action, require
from core.errors import ApplicationError, Conflict
from tickets.history import record_ticket_event
from tickets.live import publish_ticket_updated_on_commit
from tickets.models import HistoryKind, Ticket, TicketStatus

SNOOZE_FIELDS = ["is_snoozed", "snoozed_until", "is_snoozed_until_reply", "updated_at"]


@transaction.atomic
def snooze_ticket(
    *, ticket: Ticket, actor: User, until: datetime | None = None, until_reply: bool = False
) -> Ticket:
    require(actor, Action.UPDATE_TICKET)
    if until is None and not until_reply:
        raise ApplicationError(
            "Choose when the ticket comes back.",
            code="invalid",
            fields={"until": ["Give a time, or snooze until the customer replies."]},
        )
    if until is not None and until <= timezone.now():
        raise ApplicationError(
            "That time has passed.", code="invalid", fields={"until": ["Pick a future time."]}
        )
    # FOR UPDATE: a customer message may be waking the ticket right now.
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status not in TicketStatus.OPEN_STATES:
        raise Conflict("Only an open ticket can be snoozed.", code="ticket_not_open")
    ticket.is_snoozed = True
    ticket.snoozed_until = until
    ticket.is_snoozed_until_reply = until_reply
    ticket.save(update_fields=SNOOZE_FIELDS)
    record_ticket_event(
        ticket_id=ticket.pk,
        actor_id=actor.pk,
        kind=HistoryKind.SNOOZED,
        after={"until": until.isoformat() if until else None, "until_reply": until_reply},
    )
    publish_ticket_updated_on_commit(ticket)
    return ticket


def wake_ticket(*, ticket: Ticket, reason: str, actor: User | None = None) -> bool:
    """End the snooze of a (locked) ticket; False when it was not snoozed."""
    if not ticket.is_snoozed:
        return False
    ticket.is_snoozed = False
    ticket.snoozed_until = None
    ticket.is_snoozed_until_reply = False
    ticket.woke_at = timezone.now()
    ticket.save(update_fields=[*SNOOZE_FIELDS, "woke_at"])
    record_ticket_event(
        ticket_id=ticket.pk,
        actor_id=actor.pk if actor is not None else None,
        kind=HistoryKind.WOKE,
        name=reason,
    )
    publish_ticket_updated_on_commit(ticket)
    return True


@transaction.atomic
def unsnooze_ticket(*, ticket: Ticket, actor: User) -> Ticket:
    require(actor, Action.UPDATE_TICKET)
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    wake_ticket(ticket=ticket, reason="woken by hand", actor=actor)
    return ticket


def wake_due_snoozes(*, now: datetime | None = None) -> list[int]:
    """Wake every ticket whose snooze time has come; safe to run as often as you like."""
    now = now or timezone.now()
    due = Ticket.objects.filter(is_snoozed=True, snoozed_until__lte=now).values_list(
        "pk", flat=True
    )
    woken = []
    for ticket_id in list(due[:500]):
        with transaction.atomic():
            # skip_locked: a ticket being woken by a customer message is left to that message.
            ticket = (
                Ticket.objects.select_for_update(skip_locked=True)
                .filter(pk=ticket_id, is_snoozed=True, snoozed_until__lte=now)
                .first()
            )
            if ticket is not None and wake_ticket(ticket=ticket, reason="snooze time reached"):
                woken.append(ticket_id)
    return woken
