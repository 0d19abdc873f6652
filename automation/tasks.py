"""Background work: ticket events (SLA refresh, rules, webhooks), webhook sends, SLA checks."""

import logging

from django.db import transaction
from django_tasks import task

from automation import services, sla, webhooks
from automation.dispatch import TicketEventKind
from automation.models import RuleEvent, WebhookEventType
from automation.selectors import build_webhook_payload
from core import queues
from core.tasks import retry_later
from integrations.outbound_sweep import sweep_outbound

logger = logging.getLogger(__name__)

RULE_EVENTS = frozenset(RuleEvent.values)
# Which outbound webhook event a ticket event becomes.
WEBHOOK_EVENTS = {
    TicketEventKind.TICKET_CREATED: WebhookEventType.TICKET_CREATED,
    TicketEventKind.TICKET_UPDATED: WebhookEventType.TICKET_UPDATED,
    TicketEventKind.MESSAGE_RECEIVED: WebhookEventType.MESSAGE_CREATED,
    TicketEventKind.MESSAGE_SENT: WebhookEventType.MESSAGE_CREATED,
    TicketEventKind.CSAT_RECEIVED: WebhookEventType.CSAT_RECEIVED,
}
SLA_REFRESH_EVENTS = frozenset(
    {
        TicketEventKind.TICKET_CREATED,
        TicketEventKind.MESSAGE_RECEIVED,
        TicketEventKind.MESSAGE_SENT,
        TicketEventKind.TICKET_UPDATED,
    }
)
ORDER_LINKING_EVENTS = frozenset({TicketEventKind.TICKET_CREATED, TicketEventKind.MESSAGE_RECEIVED})


@task(queue_name=queues.DEFAULT)
def process_ticket_event(
    *,
    event: str,
    ticket_id: int,
    message_id: int | None = None,
    depth: int = 0,
    skip_rule_ids: list[int] | None = None,
    run_rules: bool = True,
) -> str:
    if event in SLA_REFRESH_EVENTS:
        sla.refresh_ticket_sla(ticket_id=ticket_id, link_order=event in ORDER_LINKING_EVENTS)
    fired = 0
    if run_rules and event in RULE_EVENTS:
        fired = len(
            services.run_rules(
                event=event, ticket_id=ticket_id, depth=depth, skip_rule_ids=skip_rule_ids
            ).runs
        )
    if event in WEBHOOK_EVENTS:
        payload = build_webhook_payload(
            ticket_id=ticket_id,
            message_id=message_id,
            include_csat=event == TicketEventKind.CSAT_RECEIVED,
        )
        if payload is not None:
            with transaction.atomic():
                webhooks.queue_webhooks(event=WEBHOOK_EVENTS[event], payload=payload)
    return f"{event}: {fired} rule(s) fired"


@task(queue_name=queues.DEFAULT)
def deliver_webhook(*, delivery_id: int) -> str:
    """One attempt; a retryable failure re-enqueues with backoff (`run_after`). A backend that
    cannot defer (the immediate one in tests) runs the retry at once."""
    result = webhooks.attempt_delivery(delivery_id=delivery_id)
    retry_later(deliver_webhook, retry_in=result.retry_in, delivery_id=delivery_id)
    return result.delivery.state


@task(queue_name=queues.DEFAULT)
def run_sla_checks_task() -> str:
    """The minute's periodic checks: SLA marks, then outbound messages nobody is moving."""
    report = sla.run_sla_checks()
    swept = sweep_outbound()
    return (
        f"warned={len(report.warned)} breached={len(report.breached)} "
        f"production_risks={len(report.production_risks)} woken={len(report.woken)} "
        f"outbound_requeued={len(swept.requeued)} outbound_reconciled={len(swept.reconciled)} "
        f"scheduled_sent={len(swept.scheduled_sent)}"
    )
