"""Background work for providers: outbound delivery, webhook processing, syncs."""

from django_tasks import task

from accounts.models import User
from core import queues
from core.tasks import retry_later
from integrations.context_refresh import refresh_customer_context
from integrations.media import fetch_attachment
from integrations.message_templates import sync_message_templates
from integrations.meta.profiles import fetch_profile
from integrations.router import deliver


@task(queue_name=queues.REALTIME)
def deliver_ticket_message(*, message_id: int) -> str:
    """Send one outbound ticket message through the provider for its channel.

    A retryable failure re-enqueues this task with exponential backoff (`run_after`); a backend
    that cannot defer (the immediate one in tests) runs the retry at once.
    """
    delivery = deliver(message_id=message_id)
    retry_later(deliver_ticket_message, retry_in=delivery.retry_in, message_id=message_id)
    return delivery.status


@task(queue_name=queues.REALTIME)
def fetch_inbound_media(*, attachment_id: int) -> str:
    """Download one customer file from its provider link, retried with backoff while the
    provider is unreachable; after the last attempt it shows as "file unavailable — retry"."""
    outcome = fetch_attachment(attachment_id=attachment_id)
    retry_later(fetch_inbound_media, retry_in=outcome.retry_in, attachment_id=attachment_id)
    return outcome.status


@task(queue_name=queues.DEFAULT)
def fetch_meta_profile(*, identity_id: int, attempt: int = 1) -> str:
    """Fetch a Messenger/Instagram sender's name and picture once; rate limits and transient
    Graph errors retry with backoff."""
    outcome = fetch_profile(identity_id=identity_id, attempt=attempt)
    retry_later(
        fetch_meta_profile, retry_in=outcome.retry_in, identity_id=identity_id, attempt=attempt + 1
    )
    return outcome.status


@task(queue_name=queues.BULK)
def sync_provider_task(*, provider: str, resource: str, triggered_by_id: int | None = None) -> str:
    """Scheduled or "run now" sync of Shopify/PERP customers or orders (writes a sync log)."""
    from integrations.sync import run_sync  # the sync module imports this one

    user = User.objects.filter(pk=triggered_by_id).first() if triggered_by_id else None
    return run_sync(provider=provider, resource=resource, triggered_by=user).status


@task(queue_name=queues.BULK)
def refresh_customer_context_task(*, customer_id: int) -> str:
    """Ask Shopify and PERP about one customer and store the answer (a page found it stale)."""
    context = refresh_customer_context(customer_id=customer_id)
    if context is None:
        return "customer gone"
    return f"shopify={context.shopify_state.status} perp={context.perp_state.status}"


@task(queue_name=queues.BULK)
def sync_message_templates_task() -> int:
    """Refresh the WhatsApp templates and their approval from Twilio's Content API."""
    return sync_message_templates()
