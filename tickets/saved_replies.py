"""Saved replies (macros): writes, and rendering their placeholders for a ticket."""

import re
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.permissions import Action, require
from core.errors import ApplicationError
from core.events import publish_on_commit
from tickets import events
from tickets.custom_fields import get_custom_field
from tickets.field_types import clean_value
from tickets.models import SavedReply, Ticket, TicketPriority, TicketStatus
from tickets.services import ensure_can_work_tickets
from tickets.tags import normalize_tags

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+(?:\.[a-z_]+)?)\s*\}\}")
PLACEHOLDERS = (
    "customer_first_name",
    "ticket_reference",
    "order_number",
    "order.name",
    "order.tracking_url",
    "order.total",
)
ORDER_NUMBER = re.compile(r"#\s?(\d{4,})")
SET_FIELD_PREFIX = "set_field."  # the form's name for a ticket field the macro sets


def _clean(*, title: str, body: str) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    fields = {}
    if not title:
        fields["title"] = ["Give the reply a title."]
    if not body:
        fields["body"] = ["Write the reply."]
    unknown = sorted({name for name in PLACEHOLDER.findall(body) if name not in PLACEHOLDERS})
    if unknown:
        fields["body"] = [f"Unknown placeholder: {', '.join(unknown)}."]
    if fields:
        raise ApplicationError("The saved reply is incomplete.", code="invalid", fields=fields)
    return title[:120], body


@dataclass(frozen=True)
class MacroActions:
    """What a saved reply also does when applied as a macro; empty values do nothing."""

    set_status: str = ""
    set_priority: str = ""
    add_tags: list[str] = field(default_factory=list)
    set_fields: dict[str, str] = field(default_factory=dict)  # ticket field key -> value
    set_assignee: User | None = None

    def cleaned(self) -> dict:
        fields = {}
        if self.set_status and self.set_status not in TicketStatus.values:
            fields["set_status"] = ["Unknown status."]
        if self.set_priority and self.set_priority not in TicketPriority.values:
            fields["set_priority"] = ["Unknown priority."]
        try:
            tags = normalize_tags(self.add_tags)
        except ApplicationError as exc:
            fields.update(add_tags=exc.fields["tags"])
        set_fields = {}
        for key, raw in self.set_fields.items():
            try:
                value = clean_value(get_custom_field(key), raw)
            except ApplicationError as exc:
                fields[f"{SET_FIELD_PREFIX}{key}"] = exc.fields[key]
                continue
            if value is not None:  # blank: the macro leaves that field alone
                set_fields[key] = value
        if self.set_assignee is not None:
            try:
                ensure_can_work_tickets(self.set_assignee, "set_assignee")
            except ApplicationError as exc:
                fields.update(exc.fields)
        if fields:
            raise ApplicationError(
                "The macro's actions are invalid.", code="invalid", fields=fields
            )
        return {
            "set_status": self.set_status,
            "set_priority": self.set_priority,
            "add_tags": tags,
            "set_fields": set_fields,
            "set_assignee": self.set_assignee,
        }


@transaction.atomic
def create_saved_reply(
    *, actor: User, title: str, body: str, actions: MacroActions | None = None
) -> SavedReply:
    require(actor, Action.MANAGE_SAVED_REPLIES)
    title, body = _clean(title=title, body=body)
    extra = (actions or MacroActions()).cleaned()
    try:
        with transaction.atomic():
            reply = SavedReply.objects.create(title=title, body=body, created_by=actor, **extra)
    except IntegrityError as exc:
        raise ApplicationError(
            "A saved reply with that title exists.",
            code="duplicate",
            fields={"title": ["Already taken."]},
        ) from exc
    _published(saved_reply=reply, actor=actor, change="created")
    return reply


@transaction.atomic
def update_saved_reply(
    *,
    saved_reply: SavedReply,
    actor: User,
    title: str,
    body: str,
    actions: MacroActions | None = None,
) -> SavedReply:
    require(actor, Action.MANAGE_SAVED_REPLIES)
    saved_reply.title, saved_reply.body = _clean(title=title, body=body)
    extra = (actions or MacroActions()).cleaned()
    for name, value in extra.items():
        setattr(saved_reply, name, value)
    try:
        with transaction.atomic():
            saved_reply.save(update_fields=["title", "body", *extra, "updated_at"])
    except IntegrityError as exc:
        raise ApplicationError(
            "A saved reply with that title exists.",
            code="duplicate",
            fields={"title": ["Already taken."]},
        ) from exc
    _published(saved_reply=saved_reply, actor=actor, change="updated")
    return saved_reply


@transaction.atomic
def delete_saved_reply(*, saved_reply: SavedReply, actor: User) -> None:
    require(actor, Action.MANAGE_SAVED_REPLIES)
    _published(saved_reply=saved_reply, actor=actor, change="deleted")
    saved_reply.delete()


def linked_order_number(ticket: Ticket) -> str:
    """The Shopify order linked to the ticket (printshop's TicketOrder), newest link first."""
    # `orders` are printshop's TicketOrder rows (a reverse relation: tickets never imports it).
    return (
        ticket.orders.filter(source="shopify")
        .order_by("-created_at", "-pk")
        .values_list("number", flat=True)
        .first()
        or ""
    )


def linked_order_facts(ticket: Ticket) -> dict[str, str]:
    """`order.*` placeholders: the order linked to the ticket, never "the customer's latest";
    its total and tracking come from the customer's cached Shopify snapshot."""
    name = linked_order_number(ticket)
    snapshot = ((ticket.customer.external_data or {}).get("shopify") or {}).get("data") or {}
    order = next(
        (o for o in snapshot.get("orders") or [] if isinstance(o, dict) and o.get("name") == name),
        {},
    )
    tracking = [t.get("url") for t in order.get("tracking") or [] if t.get("url")]
    total = f"{order['total']} {order.get('currency', '')}".strip() if order.get("total") else ""
    return {
        "order.name": name or "your order",
        "order.tracking_url": tracking[0] if tracking else "(no tracking yet)",
        "order.total": total,
    }


def order_number_for(ticket: Ticket) -> str:
    """The order the conversation is about: the one linked to the ticket, else the Shopify
    snapshot's latest order, else `#1234` quoted in the subject."""
    linked = linked_order_number(ticket)
    if linked:
        return linked
    shopify = (ticket.customer.external_data or {}).get("shopify") or {}
    orders = shopify.get("orders") or []
    if orders and isinstance(orders[0], dict):
        name = orders[0].get("name") or orders[0].get("order_number")
        if name:
            return str(name)
    match = ORDER_NUMBER.search(ticket.subject)
    return f"#{match.group(1)}" if match else ""


def render_saved_reply(*, saved_reply: SavedReply, ticket: Ticket) -> str:
    """Fill the known placeholders with plain text. No template engine runs on the body, so a
    saved reply (or a customer's name) cannot inject template code; unknown slots stay as typed."""
    first_name = (ticket.customer.name or "").split(" ")[0] or "there"
    values = {
        "customer_first_name": first_name,
        "ticket_reference": ticket.reference or "",
        "order_number": order_number_for(ticket) or "your order",
        **linked_order_facts(ticket),
    }
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), saved_reply.body)


def _published(*, saved_reply: SavedReply, actor: User, change: str) -> None:
    publish_on_commit(
        events.SavedReplyChanged(saved_reply_id=saved_reply.pk, actor_id=actor.pk, change=change)
    )
