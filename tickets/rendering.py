"""Presentation helpers shared by the ticket page and its partials: sanitizing customer HTML and
shaping the timeline. Reads only."""

import nh3
from django.utils.safestring import SafeString, mark_safe

from tickets.models import Ticket
from tickets.selectors import get_ticket_timeline

# Remote images are tracking pixels and may leak who read a message; everything else that nh3
# allows by default (no script, style, event handlers or javascript: URLs) is kept.
ALLOWED_TAGS = nh3.ALLOWED_TAGS - {"img"}


def sanitize_html(html: str) -> SafeString:
    """Customer-provided HTML made safe to embed: nh3 runs on every render, not only on save."""
    cleaned = nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 output is sanitized HTML


def timeline_context(*, ticket: Ticket) -> dict:
    entries = get_ticket_timeline(ticket=ticket)
    for entry in entries:
        if entry.kind != "message":
            continue
        message = entry.item
        if message.body_html:
            message.safe_html = sanitize_html(message.body_html)
        message.safe_attachments = [_attachment(item) for item in message.attachments or []]
    return {"timeline": entries}


def _attachment(item: dict | str) -> dict[str, str]:
    """Name and link of an attachment; only http(s) links are kept (no javascript: or data:)."""
    if isinstance(item, str):
        item = {"url": item}
    url = str(item.get("url") or "")
    name = str(item.get("filename") or item.get("name") or url.rsplit("/", 1)[-1] or "attachment")
    return {"name": name, "url": url if url.startswith(("https://", "http://")) else ""}
