"""Presentation helpers shared by the ticket page and its partials: sanitizing customer HTML and
shaping the timeline. Reads only."""

import nh3
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from core.files import IMAGE_TYPES
from tickets.models import Ticket
from tickets.selectors import get_ticket_timeline

# Remote images are tracking pixels and may leak who read a message; everything else that nh3
# allows by default (no script, style, event handlers or javascript: URLs) is kept.
ALLOWED_TAGS = nh3.ALLOWED_TAGS - {"img"}


def sanitize_html(html: str, *, inline_images: dict[str, str] | None = None) -> SafeString:
    """Customer-provided HTML made safe to embed: nh3 runs on every render, not only on save.

    `inline_images` maps an e-mail's Content-IDs to our download URLs: `<img src="cid:...">`
    naming one of the mail's own files is shown from our storage; any other image is dropped.
    """
    inline_images = inline_images or {}

    def keep_own_images(tag: str, attribute: str, value: str) -> str | None:
        if tag != "img":
            return value
        if attribute == "src":
            return (
                inline_images.get(value.removeprefix("cid:").strip("<> "))
                if value.startswith("cid:")
                else None
            )
        return value if attribute == "alt" else None

    cleaned = nh3.clean(
        html or "",
        tags=ALLOWED_TAGS | ({"img"} if inline_images else set()),
        attributes={**nh3.ALLOWED_ATTRIBUTES, "img": {"src", "alt"}},
        attribute_filter=keep_own_images,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 output is sanitized HTML


def inline_image_urls(attachments) -> dict[str, str]:
    """Content-ID -> download URL for a message's stored inline images."""
    return {
        a.content_id: reverse("tickets:attachment", args=[a.pk])
        for a in attachments
        if a.content_id and a.is_stored and a.content_type in IMAGE_TYPES
    }


def timeline_context(*, ticket: Ticket) -> dict:
    entries = get_ticket_timeline(ticket=ticket)
    for entry in entries:
        if entry.kind == "note":
            entry.item.listed_attachments = list(entry.item.attachments.all())
        if entry.kind != "message":
            continue
        message = entry.item
        files = list(message.attachments.all())
        inline = inline_image_urls(files)
        if message.body_html:
            message.safe_html = sanitize_html(message.body_html, inline_images=inline)
        shown = {cid for cid in inline if f"cid:{cid}" in message.body_html}
        message.listed_attachments = [a for a in files if a.content_id not in shown]
    files = [
        a
        for entry in entries
        if entry.kind in ("message", "note")
        for a in entry.item.attachments.all()
        if a.is_stored
    ]
    return {"timeline": entries, "ticket_files": files}
