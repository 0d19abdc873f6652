from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """1800 -> "30m", 5400 -> "1h 30m", 190000 -> "2d 4h"; empty -> an en dash."""
    if seconds is None:
        return "\u2013"
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"


@register.filter
def pct(ratio: float | None) -> str:
    return "\u2013" if ratio is None else f"{ratio * 100:.1f}%"


@register.filter
def blank(value) -> str:
    """A table cell: an en dash when empty, a time as people read it (the CSV keeps ISO 8601)."""
    if value is None or value == "":
        return "\u2013"
    if isinstance(value, datetime):
        return date_format(timezone.localtime(value), "D j M Y, H:i")
    return value
