"""Saved replies (macros): writes, and rendering their placeholders for a ticket."""

import re

from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.permissions import Action, require
from core.errors import ApplicationError
from core.events import publish_on_commit
from tickets import events
from tickets.models import SavedReply, Ticket

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


@transaction.atomic
def create_saved_reply(*, actor: User, title: str, body: str) -> SavedReply:
    require(actor, Action.MANAGE_SAVED_REPLIES)
    title, body = _clean(title=title, body=body)
    try:
        with transaction.atomic():
            reply = SavedReply.objects.create(title=title, body=body, created_by=actor)
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
    *, saved_reply: SavedReply, actor: User, title: str, body: str
) -> SavedReply:
    require(actor, Action.MANAGE_SAVED_REPLIES)
    saved_reply.title, saved_reply.body = _clean(title=title, body=body)
    try:
        with transaction.atomic():
            saved_reply.save(update_fields=["title", "body", "updated_at"])
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
