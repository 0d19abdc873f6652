"""What pages do with the customer context: read what is stored and, when it is stale, ask for a
background refresh, once while one is pending (docs/architecture.md, "Reads are reads")."""

from dataclasses import replace

from django.core.cache import cache
from django.utils import timezone

from core.tasks import enqueue_on_commit
from integrations.selectors import CustomerContext, get_customer_context, refresh_requested_key
from integrations.tasks import refresh_customer_context_task
from tickets.models import Customer

# A refresh that has not ended by then (a dead worker, a long bulk queue) may be requested again.
REFRESH_PENDING_SECONDS = 300


def request_customer_context_refresh(*, customer_id: int) -> bool:
    """Enqueue a refresh of the customer's Shopify/PERP context on the bulk queue, unless one is
    pending. Returns whether this call enqueued it.

    The marker is an atomic `cache.add` (Redis in production, shared by every process), so
    concurrent page views enqueue one refresh; the refresh removes it when it ends.
    """
    if not cache.add(
        refresh_requested_key(customer_id), timezone.now().isoformat(), REFRESH_PENDING_SECONDS
    ):
        return False
    enqueue_on_commit(refresh_customer_context_task, customer_id=customer_id)
    return True


def read_customer_context(*, customer: Customer, force_refresh: bool = False) -> CustomerContext:
    """The stored context for a page. A stale one (or `force_refresh`, the Refresh button) gets a
    background refresh, and the context says it is refreshing so the page polls for it."""
    context = get_customer_context(customer=customer)
    if (context.is_stale or force_refresh) and not context.is_refreshing:
        request_customer_context_refresh(customer_id=customer.pk)
        context = replace(context, is_refreshing=True)
    return context
