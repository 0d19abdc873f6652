"""An inbound message becomes a ticket message: who sent it, which ticket it threads into, and
storage. Every channel's webhook processing (integrations/<provider>/handlers.py) parses the
provider's payload into an `InboundMessage` and calls `integrations.inbound.receive_message`,
which passes the channel's configured threading window to `thread_inbound_message` here.

Threading rules (also in docs/channels.md):
- Email: a Message-ID in `In-Reply-To`/`References` that we stored on a ticket message (our
  outbound Message-IDs, or the customer's earlier mails), then `[PD-1234]` in the subject when
  that ticket belongs to the sender, else a new ticket.
- SMS, WhatsApp, Messenger, Instagram: the customer's latest ticket on that channel whose last
  message is within the channel's threading window, else new.
- Orders (any channel, after the email rules, before the messaging window): a message naming an
  order (`#1001`, `PD-ORD-10042`, `job 4411`) linked to an open ticket of the same customer joins
  that ticket, across channels (`PRINTSHOP_THREAD_BY_ORDER`).
- A message threaded into a closed ticket opens a linked follow-up (`record_inbound_message`).
- Email whose DKIM and SPF both failed for its From domain (`is_unverified_sender`) never joins
  one of the customer's verified tickets: it opens a new ticket flagged "unverified sender" (a
  reply to that ticket's own mails still threads there); staff can merge it.
- Auto-replies (`is_auto_reply`) thread like any message but reopen nothing and are never
  answered (automation and CSAT read the flag from the events).
Order references in every stored message are then linked to its ticket by printshop, which
subscribes to `MessageReceived`.
"""

import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tickets.attachments import InboundFile
from tickets.identities import normalize_identity
from tickets.models import ChannelKind, Customer, Ticket, TicketMessage, TicketStatus
from tickets.references import parse_order_references
from tickets.services import (
    find_or_create_customer,
    follow_merges,
    open_ticket,
    record_external_outbound_message,
    record_inbound_message,
)

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
    is_auto_reply: bool = False
    is_unverified_sender: bool = False


@transaction.atomic
def thread_inbound_message(
    *, inbound: InboundMessage, threading_window: timedelta
) -> TicketMessage:
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
    ticket = find_thread(customer=customer, inbound=inbound, threading_window=threading_window)
    if ticket is None:
        ticket = open_ticket(
            customer=customer,
            channel=inbound.channel,
            subject=subject_for(inbound),
            is_unverified_sender=inbound.is_unverified_sender,
            by_auto_reply=inbound.is_auto_reply,
        )
    return record_inbound_message(
        ticket=ticket,
        channel=inbound.channel,
        sender=normalize_identity(kind=inbound.identity_kind, value=inbound.identity_value),
        body=inbound.body,
        subject=inbound.subject,
        body_html=inbound.body_html,
        original_body=inbound.original_body,
        attachments=inbound.attachments,
        provider=inbound.provider,
        provider_message_id=inbound.provider_message_id,
        email_message_id=inbound.email_message_id,
        in_reply_to=inbound.in_reply_to,
        is_auto_reply=inbound.is_auto_reply,
    )


@transaction.atomic
def thread_external_reply(
    *,
    reply: InboundMessage,
    external_author: str,
    threading_window: timedelta,
) -> TicketMessage:
    """Store a reply the business sent from the provider's own inbox (a Meta echo) on the
    conversation it answers: `reply` names the customer it went to, its text and id. Same
    thread as the customer's messages on that channel, else a new ticket."""
    existing = _already_stored(reply)
    if existing is not None:
        return existing
    customer = find_or_create_customer(kind=reply.identity_kind, value=reply.identity_value)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    ticket = find_messaging_thread(
        customer=customer, channel=reply.channel, window=threading_window
    ) or open_ticket(customer=customer, channel=reply.channel, subject=subject_for(reply))
    return record_external_outbound_message(
        ticket=ticket,
        channel=reply.channel,
        recipient=normalize_identity(kind=reply.identity_kind, value=reply.identity_value),
        body=reply.body,
        external_author=external_author,
        provider=reply.provider,
        provider_message_id=reply.provider_message_id,
    )


def find_thread(
    *, customer: Customer, inbound: InboundMessage, threading_window: timedelta
) -> Ticket | None:
    """The ticket `inbound` joins, or None for a new one."""
    if inbound.is_unverified_sender:
        # Anyone can write a known customer's address in From:; only the unverified ticket's
        # own thread (a reply to our answer there) may continue it.
        ticket = find_email_thread(customer=customer, inbound=inbound)
        return ticket if ticket is not None and ticket.is_unverified_sender else None
    text = f"{inbound.subject}\n{inbound.body}"
    if inbound.channel == ChannelKind.EMAIL:
        return find_email_thread(customer=customer, inbound=inbound) or (
            find_open_ticket_for_orders(customer=customer, text=text)
        )
    return find_open_ticket_for_orders(customer=customer, text=text) or find_messaging_thread(
        customer=customer, channel=inbound.channel, window=threading_window
    )


def _already_stored(inbound: InboundMessage) -> TicketMessage | None:
    return TicketMessage.objects.filter(
        provider=inbound.provider, provider_message_id=inbound.provider_message_id
    ).first()


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
            return follow_merges(earlier.ticket)
    match = REFERENCE_TAG.search(inbound.subject or "")
    if match:
        # Only the ticket's own customer may thread by subject: references are guessable.
        ticket = Ticket.objects.filter(reference=match.group(1).upper(), customer=customer).first()
        if ticket is not None:
            return follow_merges(ticket)
    return None


def find_open_ticket_for_orders(*, customer: Customer, text: str) -> Ticket | None:
    """The newest open ticket of `customer` linked to an order named in `text`.

    Only the customer's own tickets count: order numbers are guessable. The links are
    printshop's `TicketOrder` rows, read through their reverse relation `orders`.
    """
    if not settings.PRINTSHOP_THREAD_BY_ORDER:
        return None
    numbers = [ref.number for ref in parse_order_references(text)]
    if not numbers:
        return None
    return (
        Ticket.objects.filter(
            customer=customer,
            orders__number__in=numbers,
            status__in=TicketStatus.OPEN_STATES,
            merged_into__isnull=True,
        )
        .order_by("-last_message_at", "-pk")
        .first()
    )


def find_messaging_thread(*, customer: Customer, channel: str, window: timedelta) -> Ticket | None:
    """The latest ticket on `channel` active within `window` (a closed one gets a follow-up)."""
    since = timezone.now() - window
    return (
        Ticket.objects.filter(
            customer=customer, channel=channel, merged_into__isnull=True, last_message_at__gte=since
        )
        .order_by("-last_message_at", "-pk")
        .first()
    )


def subject_for(inbound: InboundMessage) -> str:
    if inbound.subject.strip():
        return inbound.subject.strip()
    first_line = next((line.strip() for line in inbound.body.splitlines() if line.strip()), "")
    if len(first_line) > 80:
        first_line = first_line[:77].rstrip() + "..."
    return first_line or f"{ChannelKind(inbound.channel).label} message"
