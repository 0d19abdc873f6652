"""Template filters of the agent workspace (inbox, conversation list, ticket page)."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def short_age(value: datetime | None) -> str:
    """The largest unit only ("3 hours", "2 days"), to fit a list row; "now" under a minute."""
    if value is None:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return "now"
    return timesince(value, depth=1)


@register.filter
def iso_time(value: str | None) -> datetime | None:
    """A time stored as ISO text (a history entry's before/after) back as a datetime, so the
    `date` filter shows it in the shop's time zone instead of raw ISO."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
