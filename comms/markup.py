"""Chat bodies: plain text with a small safe markup (links, `code`, **bold**, @mentions).

Rendered once on write and stored in `ChannelMessage.body_html`; nh3 has the last word.
"""

import re

import nh3
from django.utils.html import escape

MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_.+-]{1,150})")
_CODE_RE = re.compile(r"`([^`\n]+)`")
_BOLD_RE = re.compile(r"\*\*([^*\n]+)\*\*")
_LINK_RE = re.compile(r"\bhttps?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")

ALLOWED_TAGS = {"a", "code", "strong", "br", "span"}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "span": {"class"}}


def parse_mentions(body: str) -> set[str]:
    """Usernames mentioned in `body` (`channel` stands for everyone in the channel)."""
    return {match.rstrip(".") for match in MENTION_RE.findall(_CODE_RE.sub("", body))}


def _render_text(text: str) -> str:
    html = escape(text)
    html = _LINK_RE.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', html)
    html = _BOLD_RE.sub(r"<strong>\1</strong>", html)
    return MENTION_RE.sub(r'<span class="mention">@\1</span>', html)


def render_markup(body: str) -> str:
    parts = []
    last = 0
    # Code spans are literal: no links, bold or mentions inside them.
    for match in _CODE_RE.finditer(body):
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
