"""Inbound messages from every channel: who sent it, which ticket it threads into, and storage.

Threading rules (also in docs/channels.md):
- Email: a Message-ID in `In-Reply-To`/`References` that we stored on a ticket message (our
  outbound Message-IDs, or the customer's earlier mails), then `[PD-1234]` in the subject when
  that ticket belongs to the sender, else a new ticket.
- SMS, WhatsApp, Messenger, Instagram: the customer's latest ticket on that channel whose last
  message is within the channel's `threading_window_hours` (72 without configuration), else new.
- Orders (any channel, after the email rules, before the messaging window): a message naming an
  order (`#1001`, `PD-ORD-10042`, `job 4411`) linked to an open ticket of the same customer joins
  that ticket, across channels (`PRINTSHOP_THREAD_BY_ORDER`; printshop.selectors).
- A message threaded into a closed ticket opens a linked follow-up (`record_inbound_message`).
Order references in every stored message are linked to its ticket (printshop `TicketOrder`).
"""

import html
import re
from dataclasses import dataclass, field
from datetime import timedelta

import nh3
from django.db import transaction
from django.utils import timezone

from integrations.models import ChannelConfiguration
from printshop.selectors import find_open_ticket_for_orders
from printshop.services import link_order_references
from tickets.attachments import InboundFile
from tickets.identities import normalize_identity
from tickets.models import ChannelKind, Customer, Ticket, TicketMessage
from tickets.services import find_or_create_customer, open_ticket, record_inbound_message

DEFAULT_THREADING_WINDOW_HOURS = 72
REFERENCE_TAG = re.compile(r"\[(PD-\d+)\]", re.IGNORECASE)
MESSAGE_ID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    identity_kind: str
    identity_value: str
    body: str
    provider: str
    provider_message_id: str
    sender_name: str = ""
    subject: str = ""
    body_html: str = ""
    original_body: str = ""
    attachments: list[InboundFile] = field(default_factory=list)
    email_message_id: str = ""
    in_reply_to: str = ""
    references: str = ""


@transaction.atomic
def receive_message(*, inbound: InboundMessage) -> TicketMessage:
    """Store one inbound message on the right ticket; a provider message seen before is a no-op."""
    existing = _already_stored(inbound)
    if existing is not None:
        return existing
    customer = find_or_create_customer(
        kind=inbound.identity_kind, value=inbound.identity_value, name=inbound.sender_name
    )
    # FOR UPDATE: two messages from the same customer must not both open a new ticket.
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    existing = _already_stored(inbound)
    if existing is not None:
        return existing
    text = f"{inbound.subject}\n{inbound.body}"
    if inbound.channel == ChannelKind.EMAIL:
        ticket = find_email_thread(customer=customer, inbound=inbound) or (
            find_open_ticket_for_orders(customer=customer, text=text)
        )
    else:
        ticket = find_open_ticket_for_orders(customer=customer, text=text) or find_messaging_thread(
            customer=customer, channel=inbound.channel
        )
    if ticket is None:
        ticket = open_ticket(
            customer=customer, channel=inbound.channel, subject=subject_for(inbound)
        )
    message = record_inbound_message(
        ticket=ticket,
        channel=inbound.channel,
        sender=normalize_identity(kind=inbound.identity_kind, value=inbound.identity_value),
        body=inbound.body,
        body_html=inbound.body_html,
        original_body=inbound.original_body,
        attachments=inbound.attachments,
        provider=inbound.provider,
        provider_message_id=inbound.provider_message_id,
        email_message_id=inbound.email_message_id,
        in_reply_to=inbound.in_reply_to,
    )
    link_order_references(ticket=message.ticket, text=text)
    return message


def _already_stored(inbound: InboundMessage) -> TicketMessage | None:
    return TicketMessage.objects.filter(
        provider=inbound.provider, provider_message_id=inbound.provider_message_id
    ).first()


def _current(ticket: Ticket) -> Ticket:
    seen = set()
    while ticket.merged_into_id is not None and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = ticket.merged_into
    return ticket


def find_email_thread(*, customer: Customer, inbound: InboundMessage) -> Ticket | None:
    message_ids = MESSAGE_ID.findall(f"{inbound.in_reply_to} {inbound.references}")
    if message_ids:
        earlier = (
            TicketMessage.objects.filter(email_message_id__in=message_ids)
            .select_related("ticket")
            .order_by("-created_at", "-pk")
            .first()
        )
        if earlier is not None:
            return _current(earlier.ticket)
    match = REFERENCE_TAG.search(inbound.subject or "")
    if match:
        # Only the ticket's own customer may thread by subject: references are guessable.
        ticket = Ticket.objects.filter(reference=match.group(1).upper(), customer=customer).first()
        if ticket is not None:
            return _current(ticket)
    return None


def threading_window(channel: str) -> timedelta:
    hours = (
        ChannelConfiguration.objects.filter(channel=channel)
        .values_list("threading_window_hours", flat=True)
        .first()
    )
    return timedelta(hours=DEFAULT_THREADING_WINDOW_HOURS if hours is None else hours)


def find_messaging_thread(*, customer: Customer, channel: str) -> Ticket | None:
    """The latest ticket on `channel` active within the window (a closed one gets a follow-up)."""
    since = timezone.now() - threading_window(channel)
    ticket = (
        Ticket.objects.filter(
            customer=customer, channel=channel, merged_into__isnull=True, last_message_at__gte=since
        )
        .order_by("-last_message_at", "-pk")
        .first()
    )
    return ticket


def subject_for(inbound: InboundMessage) -> str:
    if inbound.subject.strip():
        return inbound.subject.strip()
    first_line = next((line.strip() for line in inbound.body.splitlines() if line.strip()), "")
    if len(first_line) > 80:
        first_line = first_line[:77].rstrip() + "..."
    return first_line or f"{ChannelKind(inbound.channel).label} message"


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
