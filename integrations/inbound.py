"""Inbound messages from every channel, provider side: the channel's threading window (its
`ChannelConfiguration`), email body clean-up, and what an email's headers say about it (an
auto-reply; a sender whose domain failed authentication). Threading and storage are tickets'
rules (`tickets/threading.py`); each provider's handler builds an `InboundMessage` and calls
`receive_message`.
"""

import html
import re
from datetime import timedelta
from email.message import Message

import nh3

from integrations.models import ChannelConfiguration
from tickets.models import TicketMessage
from tickets.threading import InboundMessage, thread_external_reply, thread_inbound_message

__all__ = ["InboundMessage", "receive_external_reply", "receive_message"]

DEFAULT_THREADING_WINDOW_HOURS = 72


def receive_message(*, inbound: InboundMessage) -> TicketMessage:
    """Store one inbound message on the right ticket; a provider message seen before is a no-op."""
    return thread_inbound_message(
        inbound=inbound, threading_window=threading_window(inbound.channel)
    )


def receive_external_reply(*, reply: InboundMessage, external_author: str) -> TicketMessage:
    """Store a reply sent from the provider's own inbox on the conversation it answers."""
    return thread_external_reply(
        reply=reply,
        external_author=external_author,
        threading_window=threading_window(reply.channel),
    )


def threading_window(channel: str) -> timedelta:
    hours = (
        ChannelConfiguration.objects.filter(channel=channel)
        .values_list("threading_window_hours", flat=True)
        .first()
    )
    return timedelta(hours=DEFAULT_THREADING_WINDOW_HOURS if hours is None else hours)


# Email bodies ------------------------------------------------------------------------------------

QUOTE_HEADERS = (
    re.compile(r"^\s*On\b.{0,300}\bwrote:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Am\b.{0,300}\bschrieb.{0,40}:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*-{2,}\s*(Original|Forwarded) Message\s*-{2,}", re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),
)
OUTLOOK_HEADER = re.compile(r"^\s*\*?From:\*?\s", re.IGNORECASE)
OUTLOOK_FOLLOWERS = re.compile(r"^\s*\*?(Sent|Date|To|Subject):\*?\s", re.IGNORECASE)
SIGNATURE = (
    re.compile(r"^-- ?$"),
    re.compile(r"^\s*Sent from my \w+", re.IGNORECASE),
    re.compile(r"^\s*Get Outlook for ", re.IGNORECASE),
)


def trim_email_text(text: str) -> str:
    """The new part of an email reply: quoted history and the signature cut off.

    Falls back to the whole text when nothing would remain (e.g. a forward with no comment).
    """
    lines = text.replace("\r\n", "\n").split("\n")
    cut = len(lines)
    for index, line in enumerate(lines):
        two_lines = f"{line} {lines[index + 1]}" if index + 1 < len(lines) else line
        if any(p.match(line) or p.match(two_lines) for p in QUOTE_HEADERS):
            cut = index
            break
        if OUTLOOK_HEADER.match(line) and any(
            OUTLOOK_FOLLOWERS.match(following) for following in lines[index + 1 : index + 4]
        ):
            cut = index
            break
        if any(p.match(line) for p in SIGNATURE):
            cut = index
            break
        if line.startswith(">") and all(
            rest.startswith(">") or not rest.strip() for rest in lines[index:]
        ):
            cut = index
            break
    trimmed = "\n".join(lines[:cut]).strip()
    return trimmed or text.strip()


def sanitize_email_html(raw_html: str) -> str:
    """Customer HTML made safe to render; quoted history (blockquotes) is dropped."""
    if not raw_html.strip():
        return ""
    return nh3.clean(
        raw_html,
        tags=set(nh3.ALLOWED_TAGS) - {"blockquote"},
        attributes={
            tag: attrs for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items() if tag != "blockquote"
        },
        clean_content_tags={"blockquote", "script", "style", "head", "title"},
        # cid: images are the mail's own attachments, shown from our storage at render time.
        url_schemes=set(nh3.ALLOWED_URL_SCHEMES) | {"cid"},
        link_rel="noopener noreferrer nofollow",
    ).strip()


def html_to_text(raw_html: str) -> str:
    text = nh3.clean(re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", raw_html), tags=set())
    return html.unescape(text).strip()


# What the headers say ---------------------------------------------------------------------------

# Precedence values that mark list or bulk mail (RFC 3834 5.1 lists them as "do not answer").
BULK_PRECEDENCE = frozenset({"bulk", "junk", "list"})
# Vendor headers of auto-responders: Exchange/Outlook, and the X-Autoreply/X-Autorespond that
# vacation programs and many hosted mailboxes add.
AUTO_REPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")
OUT_OF_OFFICE_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?reply|autoreply|"
    r"auto(matic)? response|away from (the )?office|on vacation|abwesenheitsnotiz|"
    r"automatische antwort|r[ée]ponse automatique|absence)\b",
    re.IGNORECASE,
)
# SPF results that say the sending host was not allowed (RFC 7208 2.6): `none`, `neutral` and
# the errors say nothing either way.
SPF_FAILED = frozenset({"fail", "softfail"})
DKIM_RESULT = re.compile(r"@?([^\s:{},]+)\s*:\s*([a-z]+)", re.IGNORECASE)


def is_auto_reply(*, headers: Message, subject: str) -> bool:
    """Whether this mail was sent automatically (out of office, bulk, a robot), not by a person.

    RFC 3834: `Auto-Submitted` other than `no`; plus `Precedence: bulk/junk/list`, the vendor
    headers above and the usual out-of-office subjects.
    """
    auto_submitted = (headers.get("Auto-Submitted") or "").split(";")[0].strip().lower()
    return (
        auto_submitted not in ("", "no")
        or any(headers.get(name) is not None for name in AUTO_REPLY_HEADERS)
        or (headers.get("Precedence") or "").strip().lower() in BULK_PRECEDENCE
        or OUT_OF_OFFICE_SUBJECT.match(subject or "") is not None
    )


def sender_failed_authentication(*, from_address: str, dkim: str, spf: str) -> bool:
    """Whether DKIM and SPF both failed for the From domain (SendGrid Inbound Parse's `dkim`,
    e.g. `{@example.com : pass}`, and `SPF` fields).

    DKIM fails when no signature of the From domain (or a parent domain: relaxed alignment)
    passed; SPF fails on `fail`/`softfail`. Mail without the fields (events stored before they
    were read) is not judged.
    """
    if not spf.strip() or not from_address:
        return False
    if spf.strip().lower() not in SPF_FAILED:
        return False
    domain = from_address.rpartition("@")[2].lower().rstrip(".")
    for signed, result in DKIM_RESULT.findall(dkim):
        signed = signed.lower().rstrip(".")
        aligned = domain == signed or domain.endswith("." + signed)
        if aligned and result.lower() == "pass":
            return False
    return True
