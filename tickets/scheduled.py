"""Scheduled replies ("Send later", as in Front or Missive): a staff reply stored with its time,
editable until it goes, then sent through `reply_to_ticket`, the path and policy of an immediate
reply. A task enqueued for `send_at` sends it; the minute's outbound sweep sends any whose task
was lost (a restart), so none is forgotten. When the policy refuses it at its time (a window
closed meanwhile, an opt-out), it becomes a skipped message with the reason on the timeline.

A customer message does not cancel it: the timeline marks it "customer replied since scheduling"
and the agent decides (docs/decisions.md, "Scheduled send").
"""

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from accounts.models import User
from accounts.permissions import Action, can, require
from core import queues
from core.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from core.events import publish_on_commit
from core.tasks import enqueue_at_on_commit
from tickets import events
from tickets.consent import check_body_length
from tickets.history import record_ticket_event
from tickets.live import publish_ticket_updated_on_commit
from tickets.models import (
    ChannelKind,
    DeliveryStatus,
    HistoryKind,
    MessageDirection,
    ScheduledReply,
    ScheduledReplyState,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from tickets.policy import check_reply_collision, decide_send
from tickets.services import STATUS_TRANSITIONS, default_reply_channel, reply_to_ticket

logger = logging.getLogger(__name__)

MAX_SCHEDULE_AHEAD = timedelta(days=30)
SWEEP_BATCH = 500
TOMORROW_MORNING = time(9, 0)


# Times -----------------------------------------------------------------------------------------


class QuickChoice:
    IN_AN_HOUR = "in_1h"
    TOMORROW_MORNING = "tomorrow_9"


def quick_send_time(choice: str, *, now: datetime | None = None) -> datetime:
    """The composer's quick choices: in an hour, or tomorrow 09:00 in the shop's time zone
    (`TIME_ZONE`, the one business hours use)."""
    now = now or timezone.now()
    if choice == QuickChoice.IN_AN_HOUR:
        return (now + timedelta(hours=1)).replace(second=0, microsecond=0)
    if choice == QuickChoice.TOMORROW_MORNING:
        shop = timezone.get_default_timezone()
        tomorrow = timezone.localtime(now, shop).date() + timedelta(days=1)
        return datetime.combine(tomorrow, TOMORROW_MORNING, tzinfo=shop)
    raise ApplicationError(
        "Choose when to send it.", code="invalid", fields={"send_at": ["Unknown choice."]}
    )


def check_send_at(send_at: datetime | None, *, now: datetime | None = None) -> datetime:
    """A time in the future, at most `MAX_SCHEDULE_AHEAD` away (400 naming `send_at`)."""
    now = now or timezone.now()
    if send_at is None:
        raise ApplicationError(
            "Choose when to send it.", code="invalid", fields={"send_at": ["Required."]}
        )
    if timezone.is_naive(send_at):
        send_at = timezone.make_aware(send_at)
    if send_at <= now:
        raise ApplicationError(
            "That time has passed.", code="invalid", fields={"send_at": ["Pick a future time."]}
        )
    if send_at > now + MAX_SCHEDULE_AHEAD:
        raise ApplicationError(
            f"A reply can be scheduled at most {MAX_SCHEDULE_AHEAD.days} days ahead.",
            code="invalid",
            fields={"send_at": [f"At most {MAX_SCHEDULE_AHEAD.days} days from now."]},
        )
    return send_at


def _ensure_window_open_at(*, ticket: Ticket, channel: str, send_at: datetime) -> None:
    """Refuse now what the policy would refuse at `send_at` as things stand (consent, a window
    that will have closed); the customer may still write meanwhile, and the policy runs again
    when it goes."""
    decision = decide_send(ticket=ticket, channel=channel, is_human=True, now=send_at)
    if decision.is_allowed:
        return
    closes = decision.window.closes_at
    hint = (
        f"The {ChannelKind(channel).label} window closes at "
        f"{timezone.localtime(closes):%a %d %b %H:%M}: pick an earlier time."
        if closes and closes > timezone.now()
        else decision.field_error or decision.window.summary + "."
    )
    raise ApplicationError(
        decision.reason, code=decision.code, status=409, fields={"send_at": [hint]}
    )


def _check_status(set_status: str | None) -> str:
    if set_status and set_status not in TicketStatus.values:
        raise ApplicationError(
            f"Unknown status '{set_status}'.", code="invalid", fields={"set_status": ["Unknown."]}
        )
    return set_status or ""


# Scheduling, editing, cancelling ---------------------------------------------------------------


@transaction.atomic
def schedule_reply(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    send_at: datetime,
    channel: str | None = None,
    set_status: str | None = None,
    last_seen_message_id: int | None = None,
) -> ScheduledReply:
    """Store a reply to send at `send_at`; it goes through `reply_to_ticket` then. Files are not
    scheduled (400): they are stored with the message they travel with."""
    require(author, Action.REPLY_TICKET)
    send_at = check_send_at(send_at)
    # FOR UPDATE: like a reply, it is checked against what colleagues sent meanwhile.
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status == TicketStatus.CLOSED:
        raise ApplicationError(
            "This ticket is closed; reply on its follow-up instead.",
            code="ticket_closed",
            status=409,
        )
    check_reply_collision(ticket=ticket, user=author, last_seen_message_id=last_seen_message_id)
    body = (body or "").strip()
    if not body:
        raise ApplicationError(
            "The reply is empty.", code="empty_reply", fields={"body": ["Write a reply."]}
        )
    channel = channel or default_reply_channel(ticket)
    if channel not in ChannelKind.values:
        raise ApplicationError(
            f"Unknown channel '{channel}'.", code="invalid", fields={"channel": ["Unknown."]}
        )
    _ensure_window_open_at(ticket=ticket, channel=channel, send_at=send_at)
    check_body_length(channel=channel, body=body)
    reply = ScheduledReply(
        ticket=ticket,
        author=author,
        channel=channel,
        body=body,
        send_at=send_at,
        set_status=_check_status(set_status),
    )
    reply.full_clean(exclude=["ticket", "author", "message"])
    reply.save()
    ticket.save(update_fields=["updated_at"])
    _record(reply, actor=author, name="scheduled")
    enqueue_at_on_commit(send_scheduled_reply_task, run_after=send_at, scheduled_reply_id=reply.pk)
    publish_ticket_updated_on_commit(ticket)
    return reply


def _lock_scheduled(*, ticket: Ticket, scheduled_reply_id: int) -> ScheduledReply:
    reply = (
        ScheduledReply.objects.select_for_update()
        .select_related("ticket", "author")
        .filter(pk=scheduled_reply_id, ticket=ticket)
        .first()
    )
    if reply is None:
        raise NotFound("No such scheduled reply on this ticket.", code="scheduled_reply_not_found")
    if reply.state != ScheduledReplyState.SCHEDULED:
        raise Conflict(
            f"This reply is no longer scheduled ({reply.get_state_display().lower()}).",
            code="not_scheduled",
        )
    return reply


def _require_author_or_manager(reply: ScheduledReply, actor: User) -> None:
    """The author, or someone who assigns tickets (a manager covering an absent agent)."""
    require(actor, Action.REPLY_TICKET)
    if reply.author_id != actor.pk and not can(actor, Action.ASSIGN_TICKET):
        raise PermissionDenied(
            "Only its author or a manager may change this scheduled reply.", code="not_author"
        )


@transaction.atomic
def edit_scheduled_reply(
    *,
    ticket: Ticket,
    scheduled_reply_id: int,
    actor: User,
    body: str | None = None,
    send_at: datetime | None = None,
) -> ScheduledReply:
    """Change the text or the time of a reply that has not gone yet; only its author may (the
    words go out in their name). A new time gets its own task; the old one finds nothing due."""
    require(actor, Action.REPLY_TICKET)
    reply = _lock_scheduled(ticket=ticket, scheduled_reply_id=scheduled_reply_id)
    if reply.author_id != actor.pk:
        raise PermissionDenied("Only its author may edit a scheduled reply.", code="not_author")
    # Texts stay on the reply row (which a privacy erasure redacts), never in the history.
    before = {"send_at": reply.send_at.isoformat()}
    if body is not None:
        reply.body = body.strip()
        if not reply.body:
            raise ApplicationError(
                "The reply is empty.", code="empty_reply", fields={"body": ["Write a reply."]}
            )
        check_body_length(channel=reply.channel, body=reply.body)
    is_moved = send_at is not None and send_at != reply.send_at
    if is_moved:
        reply.send_at = check_send_at(send_at)
        _ensure_window_open_at(ticket=reply.ticket, channel=reply.channel, send_at=reply.send_at)
    reply.full_clean(exclude=["ticket", "author", "message"])
    reply.save(update_fields=["body", "send_at", "updated_at"])
    _record(reply, actor=actor, name="edited", before=before)
    if is_moved:
        enqueue_at_on_commit(
            send_scheduled_reply_task, run_after=reply.send_at, scheduled_reply_id=reply.pk
        )
    publish_ticket_updated_on_commit(reply.ticket)
    return reply


@transaction.atomic
def cancel_scheduled_reply(
    *, ticket: Ticket, scheduled_reply_id: int, actor: User
) -> ScheduledReply:
    """Cancel a reply that has not gone yet (409 once it went); the row stays, cancelled."""
    require(actor, Action.REPLY_TICKET)  # before the lookup: permission before existence
    reply = _lock_scheduled(ticket=ticket, scheduled_reply_id=scheduled_reply_id)
    _require_author_or_manager(reply, actor)
    reply.state = ScheduledReplyState.CANCELLED
    reply.done_at = timezone.now()
    reply.done_by = actor
    reply.save(update_fields=["state", "done_at", "done_by"])
    _record(reply, actor=actor, name="cancelled")
    publish_ticket_updated_on_commit(reply.ticket)
    return reply


@transaction.atomic
def send_scheduled_reply_now(
    *, ticket: Ticket, scheduled_reply_id: int, actor: User
) -> ScheduledReply:
    """Send it at once. The agent is there, so a refusal is a 409 like an immediate reply's and
    the reply stays scheduled."""
    require(actor, Action.REPLY_TICKET)  # before the lookup: permission before existence
    reply = _lock_scheduled(ticket=ticket, scheduled_reply_id=scheduled_reply_id)
    _require_author_or_manager(reply, actor)
    message = _reply(reply)
    return _finish(reply, state=ScheduledReplyState.SENT, message=message, actor=actor)


# Sending at the time ---------------------------------------------------------------------------


def send_due_scheduled_reply(
    *, scheduled_reply_id: int, now: datetime | None = None
) -> ScheduledReply | None:
    """Send one reply whose time has come; anything else (not due after an edit, already sent
    or cancelled) is left alone, so a duplicate task run or a sweep sends nothing twice.

    Refused by the send policy now (a window closed meanwhile, an opt-out, the author lost the
    right to reply, the ticket closed): stored as a skipped message with the reason."""
    now = now or timezone.now()
    with transaction.atomic():
        # FOR UPDATE, and the state and time in the WHERE: a task and a sweep may race.
        reply = (
            ScheduledReply.objects.select_for_update()
            .select_related("ticket", "author")
            .filter(pk=scheduled_reply_id, state=ScheduledReplyState.SCHEDULED, send_at__lte=now)
            .first()
        )
        if reply is None:
            return None
        try:
            message = _reply(reply)
        except ApplicationError as exc:
            logger.info("scheduled_reply.skipped id=%s code=%s", reply.pk, exc.code)
            message = _store_skipped(reply, code=exc.code, reason=exc.message)
            return _finish(reply, state=ScheduledReplyState.SKIPPED, message=message)
        return _finish(reply, state=ScheduledReplyState.SENT, message=message)


def _reply(reply: ScheduledReply) -> TicketMessage:
    # The savepoint of `reply_to_ticket`'s own atomic block undoes a refused attempt.
    return reply_to_ticket(
        ticket=reply.ticket,
        author=reply.author,
        body=reply.body,
        channel=reply.channel,
        set_status=_status_still_allowed(reply),
    )


def _status_still_allowed(reply: ScheduledReply) -> str | None:
    """The status to set with it, unless the ticket moved where that is no longer a step."""
    current = Ticket.objects.values_list("status", flat=True).get(pk=reply.ticket_id)
    if reply.set_status and reply.set_status in STATUS_TRANSITIONS[current]:
        return reply.set_status
    return None


def _store_skipped(reply: ScheduledReply, *, code: str, reason: str) -> TicketMessage:
    """The reply on the timeline as not sent, with why (like a refused automated message)."""
    message = TicketMessage(
        ticket=reply.ticket,
        direction=MessageDirection.OUTBOUND,
        channel=reply.channel,
        author=reply.author,
        body=reply.body,
        delivery_status=DeliveryStatus.SKIPPED,
        error_code=code[:64],
        error_message=reason,
    )
    message.full_clean(exclude=["ticket", "author"])
    message.save()
    publish_on_commit(
        events.MessageSkipped(
            ticket_id=reply.ticket_id, message_id=message.pk, channel=reply.channel, code=code
        )
    )
    return message


def _finish(
    reply: ScheduledReply, *, state: str, message: TicketMessage, actor: User | None = None
) -> ScheduledReply:
    reply.state = state
    reply.message = message
    reply.done_at = timezone.now()
    reply.done_by = actor
    reply.save(update_fields=["state", "message", "done_at", "done_by"])
    _record(
        reply,
        actor=actor,
        name="sent" if state == ScheduledReplyState.SENT else "not sent",
        after={"message_id": message.pk, "send_at": reply.send_at.isoformat()}
        | ({"reason": message.error_message} if state == ScheduledReplyState.SKIPPED else {}),
    )
    publish_ticket_updated_on_commit(reply.ticket)
    return reply


def _record(reply: ScheduledReply, *, actor: User | None, name: str, before=None, after=None):
    record_ticket_event(
        ticket_id=reply.ticket_id,
        actor_id=actor.pk if actor is not None else None,
        kind=HistoryKind.SCHEDULED_REPLY,
        name=name,
        before=before,
        after=after or {"id": reply.pk, "send_at": reply.send_at.isoformat()},
    )


def send_due_scheduled_replies(*, now: datetime | None = None) -> list[int]:
    """The sweep (run with the minute's periodic checks): every reply past its time still
    scheduled, e.g. because its task was lost in a restart. Safe to run as often as you like."""
    now = now or timezone.now()
    due = ScheduledReply.objects.filter(
        state=ScheduledReplyState.SCHEDULED, send_at__lte=now
    ).order_by("send_at", "pk")
    sent = []
    for reply_id in list(due.values_list("pk", flat=True)[:SWEEP_BATCH]):
        if send_due_scheduled_reply(scheduled_reply_id=reply_id, now=now) is not None:
            sent.append(reply_id)
    return sent


@task(queue_name=queues.REALTIME)
def send_scheduled_reply_task(*, scheduled_reply_id: int) -> str:
    """Runs at the reply's `send_at` (`run_after`); customer sends are urgent."""
    reply = send_due_scheduled_reply(scheduled_reply_id=scheduled_reply_id)
    return reply.state if reply is not None else "not due"


# Reads -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingReply:
    """A scheduled reply as the timeline shows it."""

    reply: ScheduledReply
    is_customer_replied_since: bool


def list_pending_replies(*, ticket: Ticket) -> list[PendingReply]:
    """The ticket's replies still waiting for their time, soonest first, each marked when the
    customer wrote after it was scheduled or last edited (Front's "replied since")."""
    replies = ticket.scheduled_replies.filter(state=ScheduledReplyState.SCHEDULED).select_related(
        "author"
    )
    last_customer = ticket.last_customer_message_at
    return [
        PendingReply(reply, last_customer is not None and last_customer > reply.updated_at)
        for reply in replies
    ]
