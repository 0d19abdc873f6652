"""Analytics writes. Services of every app record what happened through `record_event`."""

from typing import Any

from django.db import models

from accounts.models import User
from analytics.models import AnalyticsEvent


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
    return AnalyticsEvent.objects.create(
        name=name,
        actor=actor if actor is not None and actor.is_authenticated else None,
        ticket=ticket,
        subject_type=subject._meta.label_lower if subject is not None else "",
        subject_id=str(subject.pk) if subject is not None else "",
        properties=properties or {},
    )
