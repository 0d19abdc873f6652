"""Demo analytics for `seed_demo`: conversation logs, a few reopens and CSAT answers.

Runs after the demo tickets exist (with their backdated history), so the dashboard's charts and
tiles have something to show on a fresh install; then rebuilds the daily rollups over the demo's
days, so the reports read them (the backdated rows were written without domain events).
"""

import random
import secrets
from datetime import timedelta

from django.db.models import Min
from django.utils import timezone

from analytics.models import AnalyticsEvent, CustomerSatisfaction
from analytics.rollups import rebuild_rollups
from analytics.services import record_event, refresh_conversation_log
from tickets.models import Ticket, TicketStatus

RATING_WEIGHTS = {1: 1, 2: 1, 3: 2, 4: 5, 5: 8}


def seed_analytics_demo(*, rng: random.Random) -> None:
    now = timezone.now()
    done = Ticket.objects.filter(status__in=TicketStatus.CLOSED_STATES)
    for ticket in done.select_related("customer").order_by("pk"):
        if rng.random() < 0.12:
            event = record_event(name="ticket.reopened", ticket=ticket, properties={"by": "demo"})
            AnalyticsEvent.objects.filter(pk=event.pk).update(
                created_at=ticket.created_at + (ticket.resolved_at - ticket.created_at) / 2
            )
        refresh_conversation_log(ticket=ticket)
        sent_at = min(ticket.resolved_at + timedelta(hours=1), now)
        if rng.random() < 0.3:
            continue
        survey = CustomerSatisfaction.objects.create(
            ticket=ticket,
            customer=ticket.customer,
            token=secrets.token_urlsafe(16),
            channel=ticket.channel,
            sent_at=sent_at,
            expires_at=sent_at + timedelta(days=14),
        )
        if rng.random() < 0.6:
            survey.rating = rng.choices(list(RATING_WEIGHTS), weights=RATING_WEIGHTS.values())[0]
            survey.answered_at = min(sent_at + timedelta(minutes=rng.randint(5, 600)), now)
            if survey.rating <= 2:
                survey.comment = "The print colours were not what I expected."
            survey.save(update_fields=["rating", "answered_at", "comment"])
    first = Ticket.objects.aggregate(first=Min("created_at"))["first"]
    if first is not None:
        rebuild_rollups(since=timezone.localdate(first))
