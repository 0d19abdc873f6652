from django import template

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
    return "\u2013" if value is None or value == "" else value
