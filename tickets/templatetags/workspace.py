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
