"""Reply drafts for order-status questions ("where is my order?").

Built from PERP production status and Shopify fulfillment for the customer's open orders. A
draft is only ever shown to the agent in the suggestions panel to review and insert; nothing
here sends anything.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from integrations.selectors import CustomerContext, find_order_numbers

ORDER_STATUS_QUESTION = re.compile(
    r"\bwhere(?:'s| is| are)? (?:my|our|the) (?:\w+ )?(?:order|package|parcel|delivery|\w+s)\b"
    r"|\border status\b|\btrack(?:ing)?\b|\bhas (?:my|our) (?:\w+ )?(?:order|\w+s?) shipped\b"
    r"|\bwhen will (?:my|our|the) (?:\w+ ){0,2}(?:ship|arrive|be ready|be delivered)\b"
    r"|\bnot (?:arrived|received)\b|\bstill waiting\b",
    re.IGNORECASE,
)
FINISHED_PERP = {"completed", "shipped", "cancelled", "delivered"}


@dataclass(frozen=True)
class TrackingInfo:
    company: str
    number: str
    url: str = ""


@dataclass(frozen=True)
class OrderStatusFacts:
    """What we know about one order, from either provider (each part may be missing)."""

    number: str
    production_stage: str = ""
    estimated_ready_at: datetime | None = None
    fulfillment_status: str = ""
    tracking: list[TrackingInfo] = field(default_factory=list)
    is_cancelled: bool = False

    @property
    def is_shipped(self) -> bool:
        return self.fulfillment_status.lower() == "fulfilled" or bool(self.tracking)

    @property
    def is_open(self) -> bool:
        return not self.is_cancelled and not self.is_shipped


def is_order_status_question(text: str) -> bool:
    return bool(ORDER_STATUS_QUESTION.search(text or ""))


def facts_from_context(context: CustomerContext) -> list[OrderStatusFacts]:
    """One entry per order, newest first, joining Shopify orders with their PERP production."""
    perp_by_name = {}
    for detail in context.perp.orders if context.perp else []:
        perp_by_name[detail.order.shopify_order_name or detail.order.number] = detail
    facts = []
    for order in context.shopify.orders if context.shopify else []:
        detail = perp_by_name.pop(order.name, None)
        facts.append(
            _facts(
                number=order.name,
                detail=detail,
                fulfillment_status=order.fulfillment_status,
                tracking=[TrackingInfo(t.company, t.number, t.url) for t in order.tracking],
                is_cancelled=order.cancelled_at is not None,
            )
        )
    # PERP-only orders (phone or walk-in orders that never went through Shopify).
    for name, detail in perp_by_name.items():
        facts.append(
            _facts(number=name, detail=detail, is_cancelled=detail.order.status == "cancelled")
        )
    return facts


def _facts(*, number, detail, fulfillment_status="", tracking=(), is_cancelled=False):
    production = detail.production if detail else None
    ready = (
        [j.estimated_ready_at for j in production.jobs if j.estimated_ready_at]
        if production
        else []
    )
    return OrderStatusFacts(
        number=number,
        production_stage=production.status if production else "",
        estimated_ready_at=max(ready) if ready else None,
        fulfillment_status=fulfillment_status,
        tracking=list(tracking),
        is_cancelled=is_cancelled,
    )


def select_orders(*, orders: list[OrderStatusFacts], text: str) -> list[OrderStatusFacts]:
    """Orders the customer names in `text`; else their open orders; else their latest order."""
    mentioned = set(find_order_numbers(text))
    named = [o for o in orders if o.number in mentioned]
    if named:
        return named
    return [o for o in orders if o.is_open] or orders[:1]


def _order_sentence(order: OrderStatusFacts) -> str:
    if order.is_cancelled:
        return f"Order {order.number} was cancelled."
    if order.is_shipped:
        sentence = f"Order {order.number} has shipped"
        if order.tracking:
            t = order.tracking[0]
            sentence += f" with {t.company}" if t.company else ""
            sentence += f", tracking number {t.number}" if t.number else ""
            sentence += f" ({t.url})" if t.url else ""
        return sentence + "."
    stage = order.production_stage.replace("_", " ").strip()
    sentence = f"Order {order.number} is in production"
    sentence += f", currently at the {stage} stage" if stage else ""
    if order.estimated_ready_at:
        sentence += f", and should be ready by {order.estimated_ready_at:%A %-d %B}"
    return sentence + ". It has not shipped yet; you will get tracking details as soon as it does."


def draft_order_status_reply(*, customer_name: str, orders: list[OrderStatusFacts]) -> str:
    first_name = (customer_name or "").split(" ")[0] or "there"
    if not orders:
        body = (
            "I couldn't find an open order under your details. Could you send me the order "
            "number (it starts with #) so I can check on it?"
        )
    else:
        body = "Thanks for checking in. Here is where things stand:\n\n" + "\n".join(
            f"- {_order_sentence(o)}" for o in orders
        )
    return f"Hi {first_name},\n\n{body}\n\nLet me know if there is anything else I can help with."
