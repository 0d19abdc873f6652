"""WhatsApp templates: synced from Twilio's Content API, filled from the ticket, sent as a reply.

Outside WhatsApp's 24-hour window only an approved template may start a conversation
(docs/channels.md "Messaging windows"). A template's variables (`{{1}}`, `{{2}}`, …) are filled
from the placeholders an admin maps on it (`customer.first_name`, `order.number`, …), which the
agent may change before sending; it goes out as `ContentSid` + `ContentVariables`, and the
customer's answer reopens the window.
"""

import logging
import re
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action, require
from core.errors import ApplicationError, Conflict, NotFound
from integrations.models import MessageTemplate, TemplateApproval
from integrations.twilio import client as twilio
from integrations.twilio.content import ContentClient, ContentTemplate
from tickets.models import ChannelKind, MessageDirection, Ticket, TicketMessage
from tickets.policy import ensure_channel_can_send
from tickets.references import parse_order_references
from tickets.services import reply_to_ticket

logger = logging.getLogger(__name__)

VARIABLE = re.compile(r"\{\{\s*(\w+)\s*\}\}")
MAX_VARIABLE_CHARS = 1024  # WhatsApp's limit for a template with its substitutions (63021)


def _latest_order_number(ticket: Ticket, author: User) -> str:
    """The newest order number the customer named on this ticket (or its subject)."""
    texts = TicketMessage.objects.filter(ticket=ticket, direction=MessageDirection.INBOUND)
    for body in texts.order_by("-created_at", "-pk").values_list("body", flat=True)[:20]:
        references = parse_order_references(body)
        if references:
            return references[0].number
    references = parse_order_references(ticket.subject)
    return references[0].number if references else ""


PLACEHOLDERS: dict[str, tuple[str, Callable[[Ticket, User], str]]] = {
    "customer.name": ("Customer's name", lambda t, a: t.customer.name),
    "customer.first_name": (
        "Customer's first name",
        lambda t, a: (t.customer.name.split() or [""])[0],
    ),
    "ticket.reference": ("Ticket reference", lambda t, a: t.reference or ""),
    "ticket.subject": ("Ticket subject", lambda t, a: t.subject),
    "agent.name": ("Agent's name", lambda t, a: a.short_name),
    "order.number": ("Latest order number named on the ticket", _latest_order_number),
}


def list_sendable_templates() -> list[MessageTemplate]:
    return list(
        MessageTemplate.objects.filter(is_active=True, approval_status=TemplateApproval.APPROVED)
    )


def template_variables(template: MessageTemplate) -> list[str]:
    """The variable names of the body, in order of first use."""
    return list(dict.fromkeys(VARIABLE.findall(template.body)))


def fill_variables(*, template: MessageTemplate, ticket: Ticket, author: User) -> dict[str, str]:
    """Each variable from its mapped placeholder, else Twilio's sample value, else empty."""
    values = {}
    for name in template_variables(template):
        placeholder = PLACEHOLDERS.get(template.placeholders.get(name, ""))
        value = placeholder[1](ticket, author) if placeholder else ""
        values[name] = value or template.sample_variables.get(name, "")
    return values


def render_template(*, template: MessageTemplate, values: dict[str, str]) -> str:
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), template.body)


def send_template_reply(
    *,
    ticket: Ticket,
    author: User,
    template_id: int,
    variables: dict[str, str] | None = None,
) -> TicketMessage:
    """Queue an approved template on WhatsApp; `variables` override the filled-in values."""
    require(author, Action.REPLY_TICKET)
    template = MessageTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise NotFound("No such template.", code="template_not_found")
    if not template.is_sendable:
        raise Conflict(
            f"“{template.friendly_name}” is not approved for WhatsApp "
            f"({template.get_approval_status_display().lower()}).",
            code="template_not_approved",
        )
    # Before the variables: a customer WhatsApp cannot reach needs no filling-in.
    ensure_channel_can_send(
        ticket=ticket, channel=ChannelKind.WHATSAPP, is_human=True, has_template=True
    )
    values = fill_variables(template=template, ticket=ticket, author=author)
    for name, value in (variables or {}).items():
        if name in values and str(value).strip():
            values[name] = str(value).strip()
    missing = [name for name, value in values.items() if not value]
    too_long = [name for name, value in values.items() if len(value) > MAX_VARIABLE_CHARS]
    if missing or too_long:
        raise ApplicationError(
            "Fill in every template variable (at most 1,024 characters each).",
            code="template_variables",
            fields={f"variables.{name}": ["Required."] for name in missing}
            | {f"variables.{name}": ["Too long."] for name in too_long},
        )
    return reply_to_ticket(
        ticket=ticket,
        author=author,
        body=render_template(template=template, values=values),
        channel=ChannelKind.WHATSAPP,
        content_sid=template.sid,
        content_variables=values,
    )


@transaction.atomic
def store_synced_templates(*, templates: list[ContentTemplate]) -> int:
    """Upsert what Twilio listed (keeping each template's placeholder mapping); templates no
    longer listed stay for the timeline's sake but are inactive."""
    now = timezone.now()
    seen = []
    for item in templates:
        MessageTemplate.objects.update_or_create(
            sid=item.sid,
            defaults={
                "friendly_name": item.friendly_name[:255],
                "language": item.language[:16],
                "body": item.body,
                "sample_variables": item.sample_variables,
                "approval_status": item.approval_status
                if item.approval_status in TemplateApproval.values
                else TemplateApproval.PENDING,
                "category": item.category[:32],
                "rejection_reason": item.rejection_reason,
                "is_active": True,
                "synced_at": now,
            },
        )
        seen.append(item.sid)
    MessageTemplate.objects.exclude(sid__in=seen).update(is_active=False)
    return len(seen)


def sync_message_templates() -> int:
    """Fetch the account's templates and their approval from Twilio (no transaction held
    across the calls), then store them. Returns how many Twilio listed."""
    if not twilio.is_configured():
        raise ApplicationError(
            "Twilio is not configured (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN).",
            code="twilio_not_configured",
        )
    templates = ContentClient.from_settings().list_templates()
    count = store_synced_templates(templates=templates)
    logger.info("twilio.templates.synced count=%s", count)
    return count
