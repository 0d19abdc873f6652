"""Background work for providers: outbound delivery, webhook processing, syncs."""

from django_tasks import task

from integrations.router import deliver


@task()
def deliver_ticket_message(*, message_id: int) -> str:
    """Send one outbound ticket message through the provider for its channel."""
    return deliver(message_id=message_id)
