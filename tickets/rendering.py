"""Presentation helpers shared by the ticket page and its partials: sanitizing customer HTML and
shaping the timeline. Reads only."""

import nh3
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from accounts.models import User
from accounts.selectors import list_active_staff_by_username
from core.files import IMAGE_TYPES
from core.mentions import CODE_SPAN_RE, parse_mentions, replace_mentions
from tickets.models import InternalNote, Ticket
from tickets.scheduled import list_pending_replies
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


def render_note_body(body: str, *, staff: dict[str, User]) -> SafeString:
    """A note as HTML: escaped text, line breaks, and each @mention of a staff member in
    `staff` (username -> user) a link to a direct conversation with them. Mentions are found
    by the parser chat uses, so a note links exactly whom it notified."""

    def link(username: str) -> str:
        member = staff.get(username)
        if member is None:
            return f"@{username}"
        return format_html(
            '<a class="mention" href="{}" title="Message {}">@{}</a>',
            reverse("comms:direct", args=[member.pk]),
            member,
            username,
        )

    parts, last = [], 0
    # Code spans are literal, as in chat: what is quoted there mentions nobody.
    for match in CODE_SPAN_RE.finditer(body):
        parts.append(replace_mentions(escape(body[last : match.start()]), link))
        parts.append(escape(match.group(0)))
        last = match.end()
    parts.append(replace_mentions(escape(body[last:]), link))
    return linebreaksbr(mark_safe("".join(parts)), autoescape=False)  # noqa: S308 - escaped above


def mentioned_staff(notes: list[InternalNote]) -> dict[str, User]:
    """The active staff the notes mention, by username (one query, none without mentions)."""
    names = set().union(*(parse_mentions(note.body) for note in notes))
    if not names:
        return {}
    return {user.username: user for user in list_active_staff_by_username(usernames=names)}


def timeline_context(*, ticket: Ticket) -> dict:
    entries = get_ticket_timeline(ticket=ticket)
    notes = [entry.item for entry in entries if entry.kind == "note"]
    staff = mentioned_staff(notes)
    for note in notes:
        note.body_html = render_note_body(note.body, staff=staff)
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
    return {
        "timeline": entries,
        "ticket_files": files,
        # Shown after the conversation, where they will land when they go.
        "pending_replies": list_pending_replies(ticket=ticket),
    }
