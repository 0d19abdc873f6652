"""Reads for the storefront widget: the inbox, whether it may run on a page, whether anyone
answers now, and a visitor's own conversation and its satisfaction surveys (never anyone
else's)."""

import zoneinfo
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone

from analytics.forms import CSAT_QUESTION, RATING_CHOICES
from analytics.models import CustomerSatisfaction
from analytics.selectors import ReportFilters, get_first_response_times, list_ticket_surveys
from comms.selectors import is_any_staff_online
from core.errors import NotFound
from integrations.models import WEEKDAYS, WebChatConversation, WebChatInbox
from tickets.attachments import public_link_url
from tickets.models import (
    AttachmentState,
    ChannelKind,
    MessageDirection,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from tickets.services import follow_merges

# The reply-time estimate reads the last month of first responses.
REPLY_ESTIMATE_DAYS = 30
REPLY_ESTIMATE_CACHE_SECONDS = 600


def get_inbox(*, key: str) -> WebChatInbox:
    inbox = WebChatInbox.objects.filter(key=key, is_enabled=True).first()
    if inbox is None:
        raise NotFound("No such chat widget.", code="widget_not_found")
    return inbox


def origin_allowed(*, inbox: WebChatInbox, origin: str) -> bool:
    """The page's Origin (scheme://host[:port]) is one of the shop's configured hosts.

    An entry with a port matches only that port; `*.example.com` matches its subdomains.
    """
    try:
        parts = urlsplit(origin or "")
        hostname, port = (parts.hostname or ""), parts.port
    except ValueError:
        return False
    if parts.scheme not in ("https", "http") or not hostname:
        return False
    netloc = f"{hostname}:{port}" if port else hostname
    for entry in inbox.domains:
        if entry.startswith("*."):
            if hostname.endswith(entry[1:]) and hostname != entry[2:]:
                return True
        elif entry == netloc:
            return True
    return False


def is_within_hours(*, inbox: WebChatInbox, at: datetime | None = None) -> bool:
    if not inbox.business_hours:
        return True
    local = (at or timezone.now()).astimezone(zoneinfo.ZoneInfo(inbox.time_zone))
    span = inbox.business_hours.get(WEEKDAYS[local.weekday()])
    return bool(span) and span[0] <= local.strftime("%H:%M") < span[1]


def expected_reply_seconds() -> int | None:
    """Median first response of web chats over the last month (all channels while web chat has
    no history yet); None when nobody has been answered. Every storefront page view asks, so
    the figure is cached for REPLY_ESTIMATE_CACHE_SECONDS."""
    return cache.get_or_set(
        "webchat:reply-seconds", _median_first_response, REPLY_ESTIMATE_CACHE_SECONDS
    )


def _median_first_response() -> int | None:
    today = timezone.localdate()
    start = today - timedelta(days=REPLY_ESTIMATE_DAYS)
    for channel in (ChannelKind.WEB, ""):
        times = get_first_response_times(
            filters=ReportFilters(date_from=start, date_to=today, channel=channel)
        )
        if times["count"]:
            return times["median_seconds"]
    return None


def get_availability(*, inbox: WebChatInbox) -> dict:
    """Open now (business hours and someone online) or offline (the widget asks for an email)."""
    within_hours = is_within_hours(inbox=inbox)
    return {
        "online": within_hours and is_any_staff_online(),
        "within_hours": within_hours,
        "reply_seconds": expected_reply_seconds(),
    }


def list_visitor_tickets(*, inbox: WebChatInbox, visitor_id: str) -> list[Ticket]:
    """The visitor's conversations, newest first, each followed to the ticket it was merged into
    (with its customer loaded)."""
    conversations = WebChatConversation.objects.filter(
        inbox=inbox, visitor_id=visitor_id
    ).select_related("ticket__customer")
    tickets: dict[int, Ticket] = {}
    for conversation in conversations:
        ticket = follow_merges(conversation.ticket)
        if ticket.pk != conversation.ticket_id:
            ticket = Ticket.objects.select_related("customer").get(pk=ticket.pk)
        tickets.setdefault(ticket.pk, ticket)
    return list(tickets.values())


def list_visitor_ticket_ids(*, inbox: WebChatInbox, visitor_id: str) -> set[int]:
    """What a visitor may act on (a proof's decision, a survey's answer): the tickets of their
    own conversations and the tickets those were merged into, never anyone else's."""
    own = set(
        WebChatConversation.objects.filter(inbox=inbox, visitor_id=visitor_id).values_list(
            "ticket_id", flat=True
        )
    )
    return own | {ticket.pk for ticket in list_visitor_tickets(inbox=inbox, visitor_id=visitor_id)}


def visitor_messages(*, tickets: list[Ticket], after_id: int = 0) -> QuerySet[TicketMessage]:
    return (
        TicketMessage.objects.filter(ticket__in=tickets, pk__gt=after_id)
        .select_related("author", "ticket")
        .prefetch_related("attachments")
        .order_by("pk")
    )


def get_visitor_message(*, tickets: list[Ticket], message_id: int) -> TicketMessage:
    message = visitor_messages(tickets=tickets).filter(pk=message_id).first()
    if message is None:
        raise NotFound("No such message in this conversation.", code="message_not_found")
    return message


def serialize_message(message: TicketMessage, *, shop_name: str) -> dict:
    """A message as the widget shows it: the agent's first name, never internal fields."""
    outbound = message.direction == MessageDirection.OUTBOUND
    if outbound:
        author = message.author.first_name if message.author_id else ""
        author = author or shop_name
    else:
        author = ""
    return {
        "id": message.pk,
        "ticket": message.ticket.reference,
        "direction": message.direction,
        "body": message.body,
        "author": author,
        "created_at": message.created_at.isoformat(),
        "status": message.delivery_status,
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "url": public_link_url(a),
            }
            for a in message.attachments.all()
            if a.state == AttachmentState.STORED
        ],
    }


def list_visitor_surveys(*, inbox: WebChatInbox, visitor_id: str) -> list[CustomerSatisfaction]:
    """The satisfaction surveys sent on the visitor's own tickets."""
    return list_ticket_surveys(
        ticket_ids=list_visitor_ticket_ids(inbox=inbox, visitor_id=visitor_id)
    )


def csat_card(survey: CustomerSatisfaction) -> dict | None:
    """The widget's rating prompt of a survey, on the CSAT model's scale: open while the
    ticket is solved and the survey unanswered and unexpired; after an answer, the thanks.
    None when there is nothing to show (the ticket was reopened, the survey expired)."""
    if survey.answered_at is not None:
        state = "answered"
    elif survey.ticket.status in TicketStatus.CLOSED_STATES and survey.expires_at > timezone.now():
        state = "open"
    else:
        return None
    return {
        "id": survey.pk,
        "ticket": survey.ticket.reference,
        "state": state,
        "question": CSAT_QUESTION,
        "scale": [{"value": value, "label": label} for value, label in RATING_CHOICES],
        "rating": survey.rating,
    }


def get_conversation_context(*, ticket: Ticket) -> WebChatConversation | None:
    """What the agent sees beside a web chat: the latest visitor's page, cart and order."""
    return WebChatConversation.objects.filter(ticket=ticket).order_by("created_at", "pk").first()


def has_contact_email(*, inbox: WebChatInbox, visitor_id: str) -> bool:
    """The visitor already left an email (an earlier message), so replies can reach them."""
    return (
        WebChatConversation.objects.filter(inbox=inbox, visitor_id=visitor_id)
        .exclude(contact_email="")
        .exists()
    )


def offline_email_for(*, ticket_id: int) -> str:
    """Where an agent's reply on a web chat also goes by email: the address the visitor left
    while nobody was online (the latest such conversation on the ticket)."""
    return (
        WebChatConversation.objects.filter(ticket_id=ticket_id, reply_by_email=True)
        .exclude(contact_email="")
        .order_by("-updated_at", "-pk")
        .values_list("contact_email", flat=True)
        .first()
        or ""
    )
