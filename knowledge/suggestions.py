"""What the ticket page's "Suggested products" panel shows: active products for the customer's
latest message (hybrid ranking, knowledge.ranking) and, for order-status questions, a drafted
reply for the agent to review. Inserting a suggestion records the question -> product pair."""

import logging
from dataclasses import dataclass

from accounts.models import User
from accounts.permissions import Action, require
from integrations.customer_context import read_customer_context
from integrations.selectors import SectionStatus
from knowledge import drafts, services
from knowledge.models import ProductKnowledge, SuggestionUse
from knowledge.selectors import (
    EmbeddingProgress,
    SearchMode,
    get_embedding_progress,
    get_product,
    search_products,
)
from tickets.models import MessageDirection, Ticket
from tickets.selectors import get_ticket_for_user

logger = logging.getLogger(__name__)
SUGGESTION_COUNT = 3
QUERY_CHARS = 500


@dataclass(frozen=True)
class TicketSuggestions:
    ticket: Ticket
    query: str
    products: list[ProductKnowledge]
    mode: SearchMode
    is_semantic_available: bool
    order_draft: str = ""
    order_draft_error: str = ""
    progress: EmbeddingProgress | None = None  # set while semantic search is warming up


def latest_customer_text(*, ticket: Ticket) -> str:
    message = (
        ticket.messages.filter(direction=MessageDirection.INBOUND)
        .order_by("-created_at", "-pk")
        .first()
    )
    return (message.body if message else "") or ticket.subject


def get_ticket_suggestions(*, user: User, reference: str) -> TicketSuggestions:
    ticket = get_ticket_for_user(user=user, reference=reference)
    text = latest_customer_text(ticket=ticket)
    results = search_products(
        query=text[:QUERY_CHARS], mode=SearchMode.HYBRID, limit=SUGGESTION_COUNT
    )
    progress = get_embedding_progress() if results.is_semantic_available else None
    draft, error = "", ""
    if drafts.is_order_status_question(text) or drafts.is_order_status_question(ticket.subject):
        draft, error = _order_draft(ticket=ticket, text=f"{ticket.subject}\n{text}")
    return TicketSuggestions(
        ticket=ticket,
        query=text,
        products=results.products,
        mode=results.mode,
        is_semantic_available=results.is_semantic_available,
        order_draft=draft,
        order_draft_error=error,
        progress=progress if progress and progress.is_warming_up else None,
    )


def record_inserted_suggestion(*, user: User, reference: str, product_id: int) -> SuggestionUse:
    """The agent inserted a suggested product into their reply to this ticket."""
    require(user, Action.REPLY_TICKET)
    ticket = get_ticket_for_user(user=user, reference=reference)
    product = get_product(product_id=product_id)
    question = latest_customer_text(ticket=ticket)[:QUERY_CHARS]
    return services.record_suggestion_use(
        product=product, question=question, ticket=ticket, user=user
    )


def _order_draft(*, ticket: Ticket, text: str) -> tuple[str, str]:
    context = read_customer_context(customer=ticket.customer)
    orders = drafts.select_orders(orders=drafts.facts_from_context(context), text=text)
    states = {"Shopify": context.shopify_state, "PERP": context.perp_state}
    error = "; ".join(
        f"{provider}: {state.error or state.status.replace('_', ' ')}"
        for provider, state in states.items()
        if state.status != SectionStatus.OK
    )
    draft = drafts.draft_order_status_reply(customer_name=ticket.customer.name, orders=orders)
    return draft, error
