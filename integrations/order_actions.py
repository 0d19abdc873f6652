"""Shopify order actions from a ticket (docs/orders.md): reprint, refund, cancel, edit the
shipping address, create a discount code.

Every action runs in two steps. `preview_*` reads what Shopify holds and returns exactly what
would change (nothing is written); `perform_*` (the confirmed step) re-checks, sends the one
mutation, and only when Shopify accepted it records the action, a note on the ticket timeline
and an analytics event in one transaction. A refusal raises `ShopifyRefused` (422) with Shopify's
message and leaves nothing behind. No row lock is held during the HTTP calls.
"""

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Action, require
from analytics.services import record_event
from core.errors import ApplicationError, Conflict, NotFound
from core.events import publish_on_commit
from integrations.events import ShopifyOrderActionCompleted
from integrations.models import OrderAction, OrderActionKind, OrderActionReason
from integrations.shopify.client import (
    ShopifyClient,
    ShopifyError,
    ShopifyUnavailable,
    ShopifyUserError,
)
from integrations.shopify.orders import ActionLine, ActionOrder, ShopifyOrderActions
from tickets.models import Ticket
from tickets.services import add_internal_note, publish_ticket_updated_on_commit

CANCEL_REASONS = {
    "CUSTOMER": "Customer changed or cancelled the order",
    "INVENTORY": "Items unavailable",
    "DECLINED": "Payment declined",
    "FRAUD": "Fraudulent order",
    "STAFF": "Staff error",
    "OTHER": "Other",
}
ADDRESS_FIELDS = (
    "firstName",
    "lastName",
    "address1",
    "address2",
    "city",
    "zip",
    "provinceCode",
    "countryCode",
    "phone",
)
DISCOUNT_DAYS = 30
MAX_DISCOUNT_PERCENT = Decimal("50")


class ShopifyRefused(ApplicationError):
    status = 422
    default_code = "shopify_refused"


@dataclass(frozen=True)
class Preview:
    """What a confirmed action will do: the lines shown to the agent and the values the
    confirming call must send back unchanged."""

    kind: str
    order_name: str
    changes: list[str]
    confirm: dict[str, Any] = field(default_factory=dict)


# Shared ----------------------------------------------------------------------------------------


def _permission_for(kind: str) -> Action:
    return Action.REFUND_ORDERS if kind == OrderActionKind.REFUND else Action.EDIT_ORDERS


def _check(actor: User, kind: str) -> None:
    require(actor, _permission_for(kind))
    # The timeline note is written as the actor: check before anything reaches Shopify.
    require(actor, Action.NOTE_TICKET)


def _client() -> ShopifyOrderActions:
    if not ShopifyClient.is_configured():
        raise Conflict("Shopify is not configured.", code="shopify_not_configured")
    return ShopifyOrderActions.from_settings()


def _call(function, **kwargs):
    """Shopify's refusal or outage as an error the agent reads; nothing was changed."""
    try:
        return function(**kwargs)
    except ShopifyUserError as exc:
        raise ShopifyRefused(f"Shopify refused: {exc}", fields={"shopify": [str(exc)]}) from exc
    except ShopifyUnavailable as exc:
        raise ApplicationError(
            "Shopify is unavailable; nothing was changed. Try again in a minute.",
            code="shopify_unavailable",
            status=503,
        ) from exc
    except ShopifyError as exc:
        raise ApplicationError(
            f"Shopify answered unexpectedly: {exc}", code="shopify_error", status=502
        ) from exc


def load_order(*, ticket: Ticket, order_name: str) -> tuple[ShopifyOrderActions, ActionOrder]:
    """The order, only if it belongs to the ticket's (Shopify-linked) customer."""
    name = "#" + order_name.strip().lstrip("#")
    shopify_customer = ticket.customer.shopify_customer_id
    if not shopify_customer:
        raise Conflict("This customer is not linked to Shopify.", code="not_linked")
    client = _client()
    found = _call(client.client.get_order_by_name, name=name)
    if found is None or str(found.customer_id) != shopify_customer:
        raise NotFound(f"No order {name} for this customer.", code="order_not_found")
    order = _call(client.get_order, order_id=found.id)
    if order is None:
        raise NotFound(f"No order {name} for this customer.", code="order_not_found")
    return client, order


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:.2f} {currency}".strip()


def _reason(value: str) -> str:
    if value not in OrderActionReason.values:
        raise ApplicationError(
            "Choose a reason.", code="invalid_reason", fields={"reason": ["Choose a reason."]}
        )
    return value


def _lines(order: ActionOrder, line_id: str, quantity: int | None, *, refundable: bool):
    """[(line, quantity)]: one line (`line_id`) or, without one, every line in full."""
    if not line_id:
        chosen = [(li, li.refundable_quantity if refundable else li.quantity) for li in order.lines]
        return [(li, q) for li, q in chosen if q > 0]
    line = order.line(line_id)
    if line is None:
        raise ApplicationError(
            "That line is not on the order.", code="invalid_line", fields={"line": ["Unknown."]}
        )
    limit = line.refundable_quantity if refundable else line.quantity
    quantity = limit if quantity is None else quantity
    if not 1 <= quantity <= limit:
        raise ApplicationError(
            f"Quantity must be between 1 and {limit}.",
            code="invalid_quantity",
            fields={"quantity": [f"1 to {limit}."]},
        )
    return [(line, quantity)]


def _describe(lines: list[tuple[ActionLine, int]]) -> str:
    return ", ".join(
        f"{q} x {li.title}" + (f" ({li.variant_title})" if li.variant_title else "")
        for li, q in lines
    )


@transaction.atomic
def _record(
    *,
    ticket: Ticket,
    actor: User,
    kind: str,
    order: ActionOrder | None,
    note: str,
    events: list[dict[str, Any]],
    **fields: Any,
) -> OrderAction:
    action = OrderAction(
        ticket=ticket,
        actor=actor,
        kind=kind,
        order_name=order.name if order else "",
        order_gid=order.id if order else "",
        currency=order.currency if order else "",
        **fields,
    )
    action.full_clean(exclude=["ticket", "actor"])
    action.save()
    add_internal_note(ticket=ticket, author=actor, body=note)
    for properties in events:
        record_event(
            name=f"order.{kind}",
            actor=actor,
            ticket=ticket,
            subject=action,
            properties={"order": action.order_name, "reason": action.reason, **properties},
        )
    publish_on_commit(
        ShopifyOrderActionCompleted(
            action_id=action.pk,
            ticket_id=ticket.pk,
            actor_id=actor.pk,
            kind=kind,
            order_name=action.order_name,
            new_order_name=str(action.result.get("order_name") or ""),
        )
    )
    publish_ticket_updated_on_commit(ticket)
    return action


# Reprint ---------------------------------------------------------------------------------------


def _reprint_plan(order, ticket, line_id, quantity, reason, perp_reference):
    lines = _lines(order, line_id, quantity, refundable=False)
    if not lines:
        raise ApplicationError("Nothing to reprint on that order.", code="nothing_to_reprint")
    tags = ["reprint", f"reprint-reason:{reason}", ticket.reference or ""]
    if perp_reference:
        tags.append(perp_reference)
    note = f"Reprint of {order.name} ({reason}) for ticket {ticket.reference}" + (
        f", PERP {perp_reference}" if perp_reference else ""
    )
    return lines, [t for t in tags if t], note


def preview_reprint(
    *,
    ticket: Ticket,
    actor: User,
    order_name: str,
    reason: str,
    line_id: str = "",
    quantity: int | None = None,
    perp_reference: str = "",
) -> Preview:
    _check(actor, OrderActionKind.REPRINT)
    reason = _reason(reason)
    _, order = load_order(ticket=ticket, order_name=order_name)
    lines, tags, _ = _reprint_plan(order, ticket, line_id, quantity, reason, perp_reference)
    return Preview(
        kind=OrderActionKind.REPRINT,
        order_name=order.name,
        changes=[
            f"Create and complete a new order at no charge (100 % discount): {_describe(lines)}.",
            f"Tags: {', '.join(tags)}.",
            "Link the new order to this ticket.",
        ],
    )


def perform_reprint(
    *,
    ticket: Ticket,
    actor: User,
    order_name: str,
    reason: str,
    line_id: str = "",
    quantity: int | None = None,
    perp_reference: str = "",
) -> OrderAction:
    _check(actor, OrderActionKind.REPRINT)
    reason = _reason(reason)
    perp_reference = perp_reference.strip()[:64]
    client, order = load_order(ticket=ticket, order_name=order_name)
    lines, tags, note = _reprint_plan(order, ticket, line_id, quantity, reason, perp_reference)
    reprint = _call(
        client.create_reprint, customer_id=order.customer_id, lines=lines, tags=tags, note=note
    )
    return _record(
        ticket=ticket,
        actor=actor,
        kind=OrderActionKind.REPRINT,
        order=order,
        reason=reason,
        product=lines[0][0].title[:255],
        quantity=sum(q for _, q in lines),
        perp_reference=perp_reference,
        result={
            "draft_order_id": reprint.draft_order_id,
            "order_id": reprint.order_id,
            "order_name": reprint.order_name,
        },
        note=f"Reprint {reprint.order_name} created at no charge from {order.name} "
        f"({OrderActionReason(reason).label}): {_describe(lines)}.",
        events=[{"product": li.title, "quantity": q} for li, q in lines],
    )


# Refund ----------------------------------------------------------------------------------------


def _refund_request(order, line_id, quantity, include_shipping):
    lines = _lines(order, line_id, quantity, refundable=True) if line_id else []
    if not lines and not include_shipping:
        raise ApplicationError("Choose a line or the shipping to refund.", code="nothing_to_refund")
    return lines


def preview_refund(
    *,
    ticket: Ticket,
    actor: User,
    order_name: str,
    line_id: str = "",
    quantity: int | None = None,
    include_shipping: bool = False,
) -> Preview:
    _check(actor, OrderActionKind.REFUND)
    client, order = load_order(ticket=ticket, order_name=order_name)
    lines = _refund_request(order, line_id, quantity, include_shipping)
    suggestion = _call(
        client.suggest_refund,
        order_id=order.id,
        lines=[(li.id, q) for li, q in lines],
        refund_shipping=include_shipping,
    )
    if suggestion.amount <= 0:
        raise ShopifyRefused(
            f"Nothing refundable: Shopify suggests {_money(suggestion.amount, order.currency)} "
            f"(received {_money(order.received, order.currency)}, "
            f"refunded {_money(order.refunded, order.currency)}).",
            code="nothing_refundable",
        )
    changes = [
        f"Refund {_money(suggestion.amount, suggestion.currency)} to the original payment "
        f"({suggestion.gateway})."
    ]
    if lines:
        changes.append(
            f"Items: {_describe(lines)} ({_money(suggestion.subtotal, order.currency)})."
        )
    if include_shipping:
        changes.append(f"Shipping: {_money(suggestion.shipping, order.currency)}.")
    return Preview(
        kind=OrderActionKind.REFUND,
        order_name=order.name,
        changes=changes,
        confirm={"amount": f"{suggestion.amount:.2f}"},
    )


def perform_refund(
    *,
    ticket: Ticket,
    actor: User,
    order_name: str,
    reason: str,
    amount: str,
    line_id: str = "",
    quantity: int | None = None,
    include_shipping: bool = False,
) -> OrderAction:
    """`amount` is what the agent confirmed; a different fresh suggestion is a 409."""
    _check(actor, OrderActionKind.REFUND)
    reason = _reason(reason)
    client, order = load_order(ticket=ticket, order_name=order_name)
    lines = _refund_request(order, line_id, quantity, include_shipping)
    pairs = [(li.id, q) for li, q in lines]
    suggestion = _call(
        client.suggest_refund, order_id=order.id, lines=pairs, refund_shipping=include_shipping
    )
    try:
        confirmed = Decimal(str(amount))
    except InvalidOperation:
        confirmed = None
    if confirmed != suggestion.amount:
        raise Conflict(
            f"The refund now comes to {_money(suggestion.amount, order.currency)}; review it "
            "again.",
            code="refund_changed",
        )
    refund = _call(
        client.create_refund,
        order_id=order.id,
        lines=pairs,
        refund_shipping=include_shipping,
        suggestion=suggestion,
        note=f"Ticket {ticket.reference}: {OrderActionReason(reason).label}",
    )
    what = ", ".join(filter(None, [_describe(lines), "shipping" if include_shipping else ""]))
    return _record(
        ticket=ticket,
        actor=actor,
        kind=OrderActionKind.REFUND,
        order=order,
        reason=reason,
        product=(lines[0][0].title if lines else "Shipping")[:255],
        quantity=sum(q for _, q in lines),
        amount=refund.amount,
        result={"refund_id": refund.id},
        note=f"Refunded {_money(refund.amount, refund.currency)} on {order.name} "
        f"({OrderActionReason(reason).label}): {what}.",
        events=[
            {
                "product": lines[0][0].title if lines else "Shipping",
                "amount": f"{refund.amount:.2f}",
                "currency": refund.currency,
                "quantity": sum(q for _, q in lines),
            }
        ],
    )


# Cancel ----------------------------------------------------------------------------------------


def _cancel_checks(order: ActionOrder, reason: str) -> str:
    if reason not in CANCEL_REASONS:
        raise ApplicationError(
            "Choose a cancel reason.", code="invalid_reason", fields={"reason": ["Choose one."]}
        )
    if order.is_cancelled:
        raise Conflict(f"{order.name} is already cancelled.", code="already_cancelled")
    if order.is_fulfilled:
        raise Conflict(
            f"{order.name} has been fulfilled and cannot be cancelled; refund it instead.",
            code="order_fulfilled",
        )
    return reason


def preview_cancel(
    *, ticket: Ticket, actor: User, order_name: str, reason: str, refund: bool, restock: bool
) -> Preview:
    _check(actor, OrderActionKind.CANCEL)
    _, order = load_order(ticket=ticket, order_name=order_name)
    reason = _cancel_checks(order, reason)
    changes = [f"Cancel {order.name} ({CANCEL_REASONS[reason]}); this cannot be undone."]
    received = order.received - order.refunded
    changes.append(
        f"Refund {_money(received, order.currency)} to the customer."
        if refund and received > 0
        else "No refund."
    )
    changes.append("Restock the items." if restock else "Do not restock the items.")
    return Preview(kind=OrderActionKind.CANCEL, order_name=order.name, changes=changes)


def perform_cancel(
    *, ticket: Ticket, actor: User, order_name: str, reason: str, refund: bool, restock: bool
) -> OrderAction:
    _check(actor, OrderActionKind.CANCEL)
    client, order = load_order(ticket=ticket, order_name=order_name)
    reason = _cancel_checks(order, reason)
    if refund:
        require(actor, Action.REFUND_ORDERS)
    job = _call(
        client.cancel_order,
        order_id=order.id,
        reason=reason,
        refund=refund,
        restock=restock,
        note=f"Ticket {ticket.reference}",
    )
    refunded = order.received - order.refunded if refund else Decimal("0")
    return _record(
        ticket=ticket,
        actor=actor,
        kind=OrderActionKind.CANCEL,
        order=order,
        reason=OrderActionReason.CUSTOMER if reason == "CUSTOMER" else OrderActionReason.OTHER,
        amount=refunded,
        result={"job_id": job, "shopify_reason": reason, "refund": refund, "restock": restock},
        note=f"Cancelled {order.name} ({CANCEL_REASONS[reason]}); "
        + (f"refunded {_money(refunded, order.currency)}" if refund else "no refund")
        + (", items restocked." if restock else "."),
        events=[{"amount": f"{refunded:.2f}", "currency": order.currency}],
    )


# Shipping address ------------------------------------------------------------------------------


def _address_change(order: ActionOrder, address: dict[str, Any]) -> dict[str, str]:
    if order.is_cancelled or order.is_fulfilled:
        raise Conflict(
            f"{order.name} is {'cancelled' if order.is_cancelled else 'fulfilled'}; its shipping "
            "address can no longer change.",
            code="address_locked",
        )
    new = {k: str(address.get(k) or "").strip() for k in ADDRESS_FIELDS if k in address}
    new["countryCode"] = new.get("countryCode", order.shipping_address.get("countryCode", ""))
    new["countryCode"] = new["countryCode"].upper()
    changed = {k: v for k, v in new.items() if v != order.shipping_address.get(k, "")}
    if not changed:
        raise ApplicationError("The address is unchanged.", code="unchanged")
    return changed


def preview_address(
    *, ticket: Ticket, actor: User, order_name: str, address: dict[str, Any]
) -> Preview:
    _check(actor, OrderActionKind.ADDRESS)
    _, order = load_order(ticket=ticket, order_name=order_name)
    changed = _address_change(order, address)
    changes = [
        f"{k}: “{order.shipping_address.get(k, '')}” → “{v}”" for k, v in sorted(changed.items())
    ]
    return Preview(kind=OrderActionKind.ADDRESS, order_name=order.name, changes=changes)


def perform_address(
    *, ticket: Ticket, actor: User, order_name: str, address: dict[str, Any]
) -> OrderAction:
    _check(actor, OrderActionKind.ADDRESS)
    client, order = load_order(ticket=ticket, order_name=order_name)
    changed = _address_change(order, address)
    _call(client.update_shipping_address, order_id=order.id, address=changed)
    return _record(
        ticket=ticket,
        actor=actor,
        kind=OrderActionKind.ADDRESS,
        order=order,
        result={"fields": sorted(changed)},
        note=f"Shipping address of {order.name} changed ({', '.join(sorted(changed))}).",
        events=[{"fields": sorted(changed)}],
    )


# Discount code ---------------------------------------------------------------------------------


def _discount_value(percentage: str, amount: str) -> tuple[Decimal | None, Decimal | None]:
    try:
        pct = Decimal(percentage) if str(percentage or "").strip() else None
        fixed = Decimal(amount) if str(amount or "").strip() else None
    except InvalidOperation:
        pct = fixed = Decimal("-1")
    if (pct is None) == (fixed is None):
        raise ApplicationError("Give either a percentage or an amount.", code="invalid_discount")
    if pct is not None and not Decimal("0") < pct <= MAX_DISCOUNT_PERCENT:
        raise ApplicationError(
            f"The percentage must be above 0 and at most {MAX_DISCOUNT_PERCENT}.",
            code="invalid_discount",
            fields={"percentage": ["Out of range."]},
        )
    if fixed is not None and fixed <= 0:
        raise ApplicationError(
            "The amount must be above 0.", code="invalid_discount", fields={"amount": ["> 0."]}
        )
    return pct, fixed


def new_discount_code() -> str:
    return "PD-" + secrets.token_hex(4).upper()


def preview_discount(
    *, ticket: Ticket, actor: User, reason: str, percentage: str = "", amount: str = ""
) -> Preview:
    _check(actor, OrderActionKind.DISCOUNT)
    _reason(reason)
    if not ticket.customer.shopify_customer_id:
        raise Conflict("This customer is not linked to Shopify.", code="not_linked")
    pct, fixed = _discount_value(percentage, amount)
    code = new_discount_code()
    value = f"{pct}% off" if pct is not None else f"{fixed:.2f} off"
    return Preview(
        kind=OrderActionKind.DISCOUNT,
        order_name="",
        changes=[
            f"Create discount code {code}: {value} the whole order, one use, only for this "
            f"customer, valid {DISCOUNT_DAYS} days.",
            "Insert the code in your reply.",
        ],
        confirm={"code": code},
    )


def perform_discount(
    *,
    ticket: Ticket,
    actor: User,
    reason: str,
    code: str,
    percentage: str = "",
    amount: str = "",
) -> OrderAction:
    _check(actor, OrderActionKind.DISCOUNT)
    reason = _reason(reason)
    shopify_customer = ticket.customer.shopify_customer_id
    if not shopify_customer:
        raise Conflict("This customer is not linked to Shopify.", code="not_linked")
    pct, fixed = _discount_value(percentage, amount)
    code = code.strip().upper()[:40] or new_discount_code()
    now = timezone.now()
    created = _call(
        _client().create_discount_code,
        code=code,
        title=f"{ticket.reference} {OrderActionReason(reason).label}",
        customer_id=f"gid://shopify/Customer/{shopify_customer}",
        percentage=pct,
        amount=fixed,
        starts_at=now,
        ends_at=now + timedelta(days=DISCOUNT_DAYS),
    )
    value = f"{pct}%" if pct is not None else f"{fixed:.2f}"
    return _record(
        ticket=ticket,
        actor=actor,
        kind=OrderActionKind.DISCOUNT,
        order=None,
        reason=reason,
        amount=fixed or Decimal("0"),
        result={"code": created.code, "discount_id": created.id, "value": value},
        note=f"Discount code {created.code} created ({value} off, one use, "
        f"{DISCOUNT_DAYS} days; {OrderActionReason(reason).label}).",
        events=[{"code": created.code, "value": value}],
    )
