"""`{% load commerce %}`: order numbers in message text become sidebar links.

    {{ message.body|link_order_numbers:ticket.customer_id }}

escapes the text first, then turns `#1001` (Shopify) and `PD-ORD-10042` (PERP) into links that
open the order in the customer sidebar (`#customer-order-detail`) with htmx, and in a page of
their own without JavaScript.
"""

import re
from datetime import datetime
from urllib.parse import quote

from django import template
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from integrations.perp.types import ORDER_NUMBER
from integrations.selectors import SHOPIFY_ORDER_NUMBER

register = template.Library()
ORDER_REFERENCE = re.compile(f"{SHOPIFY_ORDER_NUMBER.pattern}|{ORDER_NUMBER.pattern}")


@register.simple_tag
def order_url(customer_id: int, number: str) -> str:
    return f"/customers/{int(customer_id)}/context/order/?number={quote(number, safe='')}"


def _link(customer_id: int, number: str) -> SafeString:
    url = order_url(customer_id, number)
    return format_html(
        '<a class="order-link" href="{}" hx-get="{}" hx-target="#customer-order-detail" '
        'hx-push-url="false">{}</a>',
        url,
        url,
        number,
    )


@register.filter(needs_autoescape=True)
def link_order_numbers(text: str, customer_id: int | None, autoescape: bool = True) -> SafeString:
    escaped = str(conditional_escape(text or "")) if autoescape else str(text or "")
    if not customer_id:
        return mark_safe(escaped)  # noqa: S308 (escaped above)
    return mark_safe(  # noqa: S308 (the text was escaped; links are built with format_html)
        ORDER_REFERENCE.sub(lambda m: _link(customer_id, m.group()), escaped)
    )


@register.filter
def age(value: datetime | None) -> str:
    """How old data is, for humans: "just now", "5 minutes ago"."""
    if value is None:
        return "at an unknown time"
    if (timezone.now() - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value)} ago"


@register.filter
def http_url(value: str) -> str:
    """The URL if it is http(s), else "": provider data must not smuggle `javascript:` links."""
    value = (value or "").strip()
    return value if value.lower().startswith(("https://", "http://")) else ""
