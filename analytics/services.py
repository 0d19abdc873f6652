"""Analytics writes. Services of apps above analytics record what happened through
`record_event`; the events of the apps below it (tickets, comms, accounts) are recorded by
`analytics.subscribers`, which also refreshes conversation logs when a ticket moves to or from
solved/closed and schedules the CSAT survey when one is solved. The survey itself is created and
sent by the `send_csat_survey` task.
"""

import logging
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from analytics import events
from analytics.conf import csat_survey_delay_minutes, csat_survey_expiry_days
from analytics.models import AnalyticsEvent, ConversationLog, CustomerSatisfaction
from analytics.rollups import mark_day_dirty
from comms.services import notify_user
from core.errors import ApplicationError, Conflict, NotFound
from core.events import publish_on_commit
from core.redaction import mask_json, mentions_any
from core.tasks import enqueue_after
from tickets.models import DeliveryStatus, MessageDirection, Ticket, TicketStatus
from tickets.services import (
    default_reply_channel,
    get_fallback_channel,
    send_automated_message,
)

logger = logging.getLogger(__name__)

LOW_SCORE = 2


def record_event(
    *,
    name: str,
    actor: User | None = None,
    ticket: models.Model | None = None,
    subject: models.Model | None = None,
    properties: dict[str, Any] | None = None,
) -> AnalyticsEvent:
    """Append one event. Call it inside the service's transaction so it commits with the change.

    `name` is dotted (`ticket.replied`); `subject` is the row the event is about when that is not
    the ticket (a user whose role changed, a channel, ...).
    """
    return record(
        name=name,
        actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
        ticket_id=ticket.pk if ticket is not None else None,
        subject_type=subject._meta.label_lower if subject is not None else "",
        subject_id=subject.pk if subject is not None else "",
        properties=properties,
    )


def record(
    *,
    name: str,
    actor_id: int | None = None,
    ticket_id: int | None = None,
    subject_type: str = "",
    subject_id: object = "",
    properties: dict[str, Any] | None = None,
) -> AnalyticsEvent:
    """`record_event` by ids, for subscribers that get a domain event rather than rows."""
    return AnalyticsEvent.objects.create(
        name=name,
        actor_id=actor_id,
        ticket_id=ticket_id,
        subject_type=subject_type,
        subject_id=str(subject_id),
        properties=properties or {},
    )


# Conversation logs -----------------------------------------------------------------------------


def _seconds_between(start, end) -> int | None:
    if start is None or end is None:
        return None
    return max(0, int((end - start).total_seconds()))


def refresh_conversation_log(*, ticket: models.Model) -> ConversationLog:
    """Write the ticket's summary row from its messages, notes and events (idempotent).

    Runs inside the transaction that moves a ticket to or from solved/closed. While the ticket
    is open again the log keeps its counts but has no `solved_at`/resolution, so it drops out of
    resolution metrics until the ticket is solved again; reopens are counted from the
    `ticket.reopened` events, so a second solve reports the full history.
    """
    # The day it was last solved loses it (a reopen) or gets it back: its rollup must follow.
    previous_solved_at = (
        ConversationLog.objects.filter(ticket=ticket).values_list("solved_at", flat=True).first()
    )
    if previous_solved_at is not None:
        mark_day_dirty(day=timezone.localdate(previous_solved_at))
    counts = ticket.messages.aggregate(
        inbound=Count("pk", filter=Q(direction=MessageDirection.INBOUND)),
        outbound=Count("pk", filter=Q(direction=MessageDirection.OUTBOUND, is_automated=False)),
    )
    is_done = ticket.status in TicketStatus.CLOSED_STATES
    solved_at = (ticket.resolved_at or ticket.closed_at or timezone.now()) if is_done else None
    log, _ = ConversationLog.objects.update_or_create(
        ticket=ticket,
        defaults={
            "channel": ticket.channel,
            "assignee_id": ticket.assignee_id,
            "inbound_count": counts["inbound"],
            "outbound_count": counts["outbound"],
            "note_count": ticket.notes.count(),
            "reopen_count": AnalyticsEvent.objects.filter(
                ticket=ticket, name="ticket.reopened"
            ).count(),
            "first_response_seconds": _seconds_between(ticket.created_at, ticket.first_response_at),
            "resolution_seconds": _seconds_between(ticket.created_at, solved_at),
            "solved_at": solved_at,
        },
    )
    return log


# CSAT surveys ----------------------------------------------------------------------------------


def schedule_csat_survey(*, ticket_id: int) -> None:
    """Enqueue the survey for a just-solved ticket, `CSAT_SURVEY_DELAY_MINUTES` from now.

    Runs on commit. Backends that cannot defer (the immediate backend in tests) run it now.
    """
    from analytics.tasks import send_csat_survey

    enqueue_after(
        send_csat_survey, delay=timedelta(minutes=csat_survey_delay_minutes()), ticket_id=ticket_id
    )


def csat_url(token: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse("analytics:csat", kwargs={"token": token})


def _survey_body(*, ticket, channel: str, url: str) -> str:
    if channel == "email":
        return (
            f"Hello,\n\nYour request {ticket.reference} ({ticket.subject}) has been solved. "
            "How did we do? It takes ten seconds to tell us:\n\n"
            f"{url}\n\nThank you,\nPrintdesk customer service"
        )
    return f"How did we do on {ticket.reference}? Rate us: {url}"


@transaction.atomic
def send_csat_survey_now(*, ticket_id: int) -> CustomerSatisfaction | None:
    """Create (or renew) the ticket's survey and send it on the customer's channel.

    Nothing is sent when the ticket was reopened in the meantime, its survey was already
    answered (one answer per ticket, even when it is solved again after a reopen), or only
    auto-replies wrote in.
    """
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None or ticket.status not in TicketStatus.CLOSED_STATES:
        logger.info("analytics.csat.skipped ticket=%s reason=not_solved", ticket_id)
        return None
    inbound = ticket.messages.filter(direction=MessageDirection.INBOUND)
    if inbound.exists() and not inbound.filter(is_auto_reply=False).exists():
        # Only auto-replies (out of office, bulk) wrote in: nobody to ask, and a survey to an
        # auto-responder answers it back.
        logger.info("analytics.csat.skipped ticket=%s reason=auto_reply", ticket_id)
        return None
    survey = CustomerSatisfaction.objects.select_for_update().filter(ticket=ticket).first()
    if survey is not None and survey.answered_at is not None:
        logger.info("analytics.csat.skipped ticket=%s reason=already_answered", ticket_id)
        return None
    now = timezone.now()
    channel = default_reply_channel(ticket)
    if survey is None:
        survey = CustomerSatisfaction(ticket=ticket, customer=ticket.customer)
    survey.token = secrets.token_urlsafe(16)
    survey.channel = channel
    survey.sent_at = now
    survey.expires_at = now + timedelta(days=csat_survey_expiry_days())
    survey.full_clean(exclude=["ticket", "customer"])
    survey.save()
    url = csat_url(survey.token)
    sent = send_automated_message(
        ticket=ticket, body=_survey_body(ticket=ticket, channel=channel, url=url), channel=channel
    )
    # The channel refused it (e.g. the WhatsApp window closed): the survey goes by email.
    fallback = get_fallback_channel(ticket=ticket, skipped=sent)
    if fallback is not None:
        channel = survey.channel = fallback
        survey.save(update_fields=["channel"])
        sent = send_automated_message(
            ticket=ticket,
            body=_survey_body(ticket=ticket, channel=channel, url=url),
            channel=channel,
        )
    if sent.delivery_status == DeliveryStatus.SKIPPED:
        record_event(
            name="csat.skipped",
            ticket=ticket,
            subject=survey,
            properties={"channel": channel, "code": sent.error_code},
        )
        return survey
    record_event(name="csat.sent", ticket=ticket, subject=survey, properties={"channel": channel})
    publish_on_commit(
        events.CsatSurveySent(ticket_id=ticket.pk, survey_id=survey.pk, channel=channel)
    )
    return survey


def _managers_to_notify(*, ticket) -> list[User]:
    """Managers of the ticket's team or of the assignee's teams; every manager if none."""
    team_ids = set(ticket.assignee.teams.values_list("pk", flat=True)) if ticket.assignee else set()
    if ticket.team_id:
        team_ids.add(ticket.team_id)
    managers = User.objects.filter(groups__name=Role.MANAGER, is_active=True)
    scoped = list(managers.filter(teams__in=team_ids).distinct()) if team_ids else []
    return scoped or list(managers.distinct())


# Where the customer answered (the analytics event says it).
ANSWERED_ON_SURVEY_PAGE = "survey_page"
ANSWERED_IN_WEB_CHAT = "web_chat"


@transaction.atomic
def answer_csat_survey(
    *, token: str, rating: int, comment: str = "", via: str = ANSWERED_ON_SURVEY_PAGE
) -> CustomerSatisfaction:
    """Record the customer's answer (on the public page, or `via` the storefront widget). One
    answer per survey; a low score alerts managers."""
    survey = (
        CustomerSatisfaction.objects.select_for_update(of=("self",))
        .select_related("ticket", "ticket__assignee")
        .filter(token=token)
        .first()
    )
    if survey is None:
        raise NotFound("This survey does not exist.", code="csat_not_found")
    if survey.answered_at is not None:
        raise Conflict("This survey was already answered.", code="csat_answered")
    if survey.expires_at <= timezone.now():
        raise ApplicationError("This survey has expired.", code="csat_expired", status=410)
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ApplicationError(
            "Choose a rating from 1 to 5.", code="invalid", fields={"rating": ["1 to 5."]}
        )
    survey.rating = rating
    survey.comment = (comment or "").strip()[:2000]
    survey.answered_at = timezone.now()
    survey.save(update_fields=["rating", "comment", "answered_at"])
    ticket = survey.ticket
    record_event(
        name="csat.answered",
        ticket=ticket,
        subject=survey,
        properties={"rating": rating, "via": via},
    )
    publish_on_commit(events.CsatAnswered(ticket_id=ticket.pk, survey_id=survey.pk, rating=rating))
    if rating <= LOW_SCORE:
        assignee = ticket.assignee
        for manager in _managers_to_notify(ticket=ticket):
            notify_user(
                recipient=manager,
                kind="csat",
                title=f"Low satisfaction ({rating}/5) on {ticket.reference}",
                body=survey.comment
                or f"Assigned to {assignee if assignee else 'nobody'}; no comment left.",
                url=f"/tickets/{ticket.reference}/",
            )
    return survey


# Privacy ---------------------------------------------------------------------------------------


@transaction.atomic
def redact_customer_analytics(
    *, customer_ids: list[int], ticket_ids: list[int], needles: list[str]
) -> int:
    """Erasure (docs/privacy.md): CSAT comments go, scores and times stay; customer field values
    go from their change rows; any personal value in an event's properties is masked. Returns
    how many rows changed."""
    changed = (
        CustomerSatisfaction.objects.filter(customer_id__in=customer_ids)
        .exclude(comment="")
        .update(comment="")
    )
    # The customer's field history: which field changed and when stays, the values go.
    field_changes = AnalyticsEvent.objects.filter(
        name="customer.field_changed",
        subject_type="tickets.customer",
        subject_id__in=[str(pk) for pk in customer_ids],
    )
    for event in field_changes:
        event.properties = {**event.properties, "from": None, "to": None}
        event.save(update_fields=["properties"])
        changed += 1
    if not needles:
        return changed
    for event in AnalyticsEvent.objects.filter(mentions_any(["properties"], needles)):
        event.properties = mask_json(event.properties, needles)
        event.save(update_fields=["properties"])
        changed += 1
    return changed
