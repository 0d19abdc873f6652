"""Chat bodies: plain text with a small safe markup (links, `code`, **bold**, @mentions).

Ticket references (`PD-1234`) link to the ticket and PERP references (`PD-ORD-10042`,
`job 4411`, `JOB-4411`) to the tickets linked to that order or job (the inbox filtered by it),
so "ask #graphic-design about PD-1234" needs no copy-pasted URL. The links are resolved when
followed, not when written: a job linked to a ticket later still finds it.

Rendered once on write and stored in `ChannelMessage.body_html`; nh3 has the last word. The
mention parser is the one internal notes use too (`core.mentions`).
"""

import re
from urllib.parse import urlencode

import nh3
from django.utils.html import escape

from core.mentions import CODE_SPAN_RE, MENTION_RE
from tickets.references import find_order_references

_BOLD_RE = re.compile(r"\*\*([^*\n]+)\*\*")
_LINK_RE = re.compile(r"\bhttps?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
TICKET_REFERENCE_RE = re.compile(r"\bPD-\d+\b", re.IGNORECASE)
# Shopify's "#1001" is left as text: in chat a bare "#1234" is as often a count or a channel.
LINKED_ORDER_SOURCES = {"perp"}

ALLOWED_TAGS = {"a", "code", "strong", "br", "span"}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "span": {"class"}}


def _reference_links(text: str) -> list[tuple[int, int, str]]:
    """(start, end, href) of each URL, ticket reference and PERP reference in `text`; a URL
    wins over a reference inside it."""
    spans = [(m.start(), m.end(), m.group(0)) for m in _LINK_RE.finditer(text)]
    candidates = [
        (m.start(), m.end(), f"/tickets/{m.group(0).upper()}/")
        for m in TICKET_REFERENCE_RE.finditer(text)
    ]
    candidates += [
        (start, end, "/tickets/?" + urlencode({"view": "all", "order": reference.number}))
        for start, end, reference in find_order_references(text)
        if reference.source in LINKED_ORDER_SOURCES
    ]
    for start, end, href in sorted(candidates):
        if not any(start < other_end and other_start < end for other_start, other_end, _ in spans):
            spans.append((start, end, href))
    return sorted(spans)


def _render_text(text: str) -> str:
    html = escape(text)
    parts, last = [], 0
    for start, end, href in _reference_links(html):
        parts += [html[last:start], f'<a href="{escape(href)}">{html[start:end]}</a>']
        last = end
    html = "".join([*parts, html[last:]])
    html = _BOLD_RE.sub(r"<strong>\1</strong>", html)
    return MENTION_RE.sub(r'<span class="mention">@\1</span>', html)


def render_markup(body: str) -> str:
    parts = []
    last = 0
    # Code spans are literal: no links, bold or mentions inside them.
    for match in CODE_SPAN_RE.finditer(body):
        parts.append(_render_text(body[last : match.start()]))
        parts.append(f"<code>{escape(match.group(1))}</code>")
        last = match.end()
    parts.append(_render_text(body[last:]))
    html = "".join(parts).replace("\n", "<br>")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
    )
