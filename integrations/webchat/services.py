"""Writes for the storefront widget: a visitor's message becomes a ticket message through the
same inbound path as every channel (`integrations.inbound.receive_message` →
`tickets/threading.py`), so rules, SLAs, analytics and collision detection see a `web` message
like any other; delivery receipts move the agent's reply to delivered/read; the rating prompt
answers the ticket's CSAT survey through analytics' own service."""

from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.files import File
from django.db import transaction

from analytics.models import CustomerSatisfaction
from analytics.services import ANSWERED_IN_WEB_CHAT, answer_csat_survey
from core.errors import ApplicationError, NotFound
from core.files import JPEG, PDF, PNG
from core.realtime import group_send, widget_ticket_group, widget_visitor_group
from integrations.inbound import InboundMessage, receive_message
from integrations.models import WebChatConversation, WebChatInbox
from integrations.webchat import selectors
from tickets.attachments import InboundFile, describe_uploads, safe_filename, save_to_storage
from tickets.identities import normalize_identity
from tickets.models import (
    ChannelKind,
    DeliveryStatus,
    IdentityKind,
    MessageDirection,
    TicketMessage,
)
from tickets.services import follow_merges, update_delivery_status

PROVIDER = "web"
UPLOAD_TYPES = frozenset({PNG, JPEG, PDF})
BODY_MAX_CHARS = 5000
CART_MAX_ITEMS = 50


@dataclass(frozen=True)
class Visitor:
    """Who is writing: the token's visitor id, a verified email (a valid identity signature)
    and what they typed in the pre-chat form (`name`, `email` unverified, `order`)."""

    inbox: WebChatInbox
    visitor_id: str
    verified_email: str = ""
    name: str = ""
    contact_email: str = ""
    order_number: str = ""


@dataclass(frozen=True)
class PageContext:
    page_url: str = ""
    cart: dict | None = None
    offline: bool = False


def _check_upload(upload: File | None) -> InboundFile | None:
    """An artwork file: PNG, JPEG or PDF by its bytes, within the attachment size limit."""
    if upload is None:
        return None
    described = describe_uploads([upload])[0]
    if described.content_type not in UPLOAD_TYPES:
        raise ApplicationError(
            "Send a PNG, JPEG or PDF file.",
            code="file_type",
            fields={"file": ["Only PNG, JPEG and PDF files can be sent."]},
        )
    if described.size > settings.ATTACHMENT_UPLOAD_MAX_BYTES:
        limit = settings.ATTACHMENT_UPLOAD_MAX_BYTES // (1024 * 1024)
        raise ApplicationError(
            f"Files are limited to {limit} MB.",
            code="files_too_large",
            fields={"file": [f"At most {limit} MB."]},
        )
    filename = safe_filename(described.filename, fallback="upload")
    key, digest = save_to_storage(upload, filename=filename, declared_type=described.content_type)
    return InboundFile(
        filename=filename,
        declared_type=getattr(upload, "content_type", "") or "",
        storage_key=key,
        size=digest.size,
        sha256=digest.sha256,
        content_type=digest.content_type,
    )


def _clean_cart(cart: dict | None) -> dict:
    """What the agent needs of Shopify's /cart.js: totals and line titles, nothing else."""
    if not isinstance(cart, dict):
        return {}
    items = cart.get("items") if isinstance(cart.get("items"), list) else []
    return {
        "currency": str(cart.get("currency", ""))[:3],
        "total_price": cart.get("total_price") if isinstance(cart.get("total_price"), int) else 0,
        "item_count": cart.get("item_count") if isinstance(cart.get("item_count"), int) else 0,
        "items": [
            {
                "title": str(item.get("title", ""))[:200],
                "quantity": item.get("quantity") if isinstance(item.get("quantity"), int) else 0,
                "sku": str(item.get("sku") or "")[:64],
                "line_price": item.get("line_price")
                if isinstance(item.get("line_price"), int)
                else 0,
            }
            for item in items[:CART_MAX_ITEMS]
            if isinstance(item, dict)
        ],
    }


def _clean_contact_email(email: str) -> str:
    if not email:
        return ""
    try:
        return normalize_identity(kind=IdentityKind.EMAIL, value=email)
    except ApplicationError as exc:
        raise ApplicationError(
            exc.message, code="invalid", fields={"email": ["Give a valid email address."]}
        ) from exc


@transaction.atomic
def post_visitor_message(
    *,
    visitor: Visitor,
    body: str,
    client_message_id: str,
    upload: File | None = None,
    context: PageContext = PageContext(),
) -> TicketMessage:
    """Store a visitor's message (a retry with the same `client_message_id` stores nothing).

    The customer is the verified email's, else the anonymous visitor's own (`web` identity):
    an email typed in the form is kept for replies but never finds a customer.
    """
    body = (body or "").strip()
    if len(body) > BODY_MAX_CHARS:
        raise ApplicationError(
            f"A message is at most {BODY_MAX_CHARS} characters.",
            code="invalid",
            fields={"body": [f"At most {BODY_MAX_CHARS} characters."]},
        )
    if not body and upload is None:
        raise ApplicationError("The message is empty.", code="empty", fields={"body": ["Write."]})
    if not client_message_id or len(client_message_id) > 64:
        raise ApplicationError(
            "Each message needs a client id.", code="invalid", fields={"client_id": ["Required."]}
        )
    contact_email = _clean_contact_email(visitor.contact_email)
    if (
        context.offline
        and not (contact_email or visitor.verified_email)
        and not selectors.has_contact_email(inbox=visitor.inbox, visitor_id=visitor.visitor_id)
    ):
        raise ApplicationError(
            "Leave an email address so we can answer you.",
            code="email_required",
            fields={"email": ["We are away: leave your email and we reply there."]},
        )
    inbound_file = _check_upload(upload)
    order = visitor.order_number.strip().lstrip("#")[:64]
    identity = (
        (IdentityKind.EMAIL, visitor.verified_email)
        if visitor.verified_email
        else (IdentityKind.WEB, visitor.visitor_id)
    )
    message = receive_message(
        inbound=InboundMessage(
            channel=ChannelKind.WEB,
            identity_kind=identity[0],
            identity_value=identity[1],
            body=body or (inbound_file.filename if inbound_file else ""),
            provider=PROVIDER,
            provider_message_id=f"{visitor.visitor_id}:{client_message_id}",
            sender_name=visitor.name[:200],
            # The order typed in the form is a subject line, so threading and order links see it.
            subject=f"Web chat about order #{order}" if order else "",
            attachments=[inbound_file] if inbound_file else [],
        )
    )
    conversation, created = WebChatConversation.objects.get_or_create(
        visitor_id=visitor.visitor_id,
        ticket_id=message.ticket_id,
        defaults={"inbox": visitor.inbox},
    )
    if created:
        conversation.page_url = (context.page_url or "")[:2000]
        conversation.cart = _clean_cart(context.cart)
    fields = {
        "verified_email": visitor.verified_email,
        "order_number": order or conversation.order_number,
        "contact_email": contact_email or conversation.contact_email,
        "reply_by_email": conversation.reply_by_email or context.offline,
    }
    for name, value in fields.items():
        setattr(conversation, name, value)
    conversation.full_clean(exclude=["ticket", "inbox"])
    conversation.save()
    frame = {
        "type": "widget.message",
        "message": selectors.serialize_message(message, shop_name=visitor.inbox.shop_name),
    }
    transaction.on_commit(
        partial(group_send, widget_visitor_group(visitor.visitor_id), frame), robust=True
    )
    return message


def answer_csat_in_web_chat(
    *, visitor: Visitor, survey_id: int, rating: int, comment: str = ""
) -> CustomerSatisfaction:
    """The widget's rating prompt: the public survey page's answer (one per survey, 409 for a
    second), for a survey of the visitor's own tickets only (another's is as unknown as a
    missing one)."""
    surveys = selectors.list_visitor_surveys(inbox=visitor.inbox, visitor_id=visitor.visitor_id)
    survey = next((s for s in surveys if s.pk == survey_id), None)
    if survey is None:
        raise NotFound("No such survey in this conversation.", code="csat_not_found")
    return answer_csat_survey(
        token=survey.token, rating=rating, comment=comment, via=ANSWERED_IN_WEB_CHAT
    )


def announce_survey_card(*, survey_id: int) -> None:
    """Runs after commit: the widget sockets on the survey's ticket get its rating prompt (sent)
    or thanks (answered, wherever: the widget, another tab, the emailed page)."""
    survey = CustomerSatisfaction.objects.select_related("ticket").filter(pk=survey_id).first()
    card = selectors.csat_card(survey) if survey is not None else None
    if card is None:
        return
    # A merged ticket's visitors listen on the ticket it was merged into.
    reference = follow_merges(survey.ticket).reference
    group_send(widget_ticket_group(reference), {"type": "widget.csat", "survey": card})


RECEIPT_STATUSES = {"delivered": DeliveryStatus.DELIVERED, "read": DeliveryStatus.READ}


def record_receipt(*, visitor: Visitor, message_id: int, status: str) -> TicketMessage:
    """The widget showed (delivered) or the visitor saw (read) an agent's message."""
    if status not in RECEIPT_STATUSES:
        raise ApplicationError(
            "A receipt is delivered or read.", code="invalid", fields={"status": ["Unknown."]}
        )
    tickets = selectors.list_visitor_tickets(inbox=visitor.inbox, visitor_id=visitor.visitor_id)
    message = selectors.get_visitor_message(tickets=tickets, message_id=message_id)
    if message.channel != ChannelKind.WEB or message.direction != MessageDirection.OUTBOUND:
        return message
    return update_delivery_status(message_id=message.pk, status=RECEIPT_STATUSES[status])


def poll_messages(*, visitor: Visitor, after_id: int = 0) -> list[dict]:
    """The polling fallback: the visitor's messages after `after_id`; the agent's replies it
    hands over count as delivered, as a socket's acknowledgement would."""
    tickets = selectors.list_visitor_tickets(inbox=visitor.inbox, visitor_id=visitor.visitor_id)
    messages = list(selectors.visitor_messages(tickets=tickets, after_id=after_id)[:200])
    for message in messages:
        if (
            message.direction == MessageDirection.OUTBOUND
            and message.channel == ChannelKind.WEB
            and message.delivery_status == DeliveryStatus.SENT
        ):
            update_delivery_status(message_id=message.pk, status=DeliveryStatus.DELIVERED)
    return [selectors.serialize_message(m, shop_name=visitor.inbox.shop_name) for m in messages]
