"""The periodic sweep of outbound messages nobody is moving (run with the minute's periodic
checks: `manage.py run_sla_checks` and its task).

- Queued for longer than `OUTBOUND_STUCK_MINUTES` (10): its task was lost (a worker died before
  enqueueing it, a task row was removed): enqueued again. Longer than the send backoff (at most
  4 minutes by default), so a message waiting for its retry is left alone.
- Sending for that long: the worker died during the provider call, so whether the provider has
  it is unknown: it becomes unknown and is reconciled at once, like a send that got no answer
  (`router.settle_unknown`).
- Scheduled replies past their time (their task was lost, e.g. in a restart): sent now through
  `tickets.scheduled`, which claims each under a row lock, so the task and the sweep send once.
- Outcome unknown: Twilio is asked again (its lookup may have failed); SendGrid mail with no
  Event Webhook event after `OUTBOUND_RECONCILE_WAIT_MINUTES` (15) never reached SendGrid and is
  sent again. Meta messages stay for staff to decide.

Every step changes a row with a conditional UPDATE or a claim first, so two sweeps (or a sweep
and a worker) at once send nothing twice.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.tasks import retry_later
from integrations import router, services
from integrations.tasks import deliver_ticket_message
from tickets import delivery, scheduled
from tickets.models import ChannelKind, DeliveryStatus, MessageDirection, TicketMessage

STUCK_MINUTES = 10
RECONCILE_WAIT_MINUTES = 15
BATCH = 500


@dataclass
class SweepReport:
    requeued: list[int] = field(default_factory=list)
    reconciled: list[int] = field(default_factory=list)
    scheduled_sent: list[int] = field(default_factory=list)


def sweep_outbound(*, now: datetime | None = None) -> SweepReport:
    now = now or timezone.now()
    stuck_before = now - timedelta(
        minutes=getattr(settings, "OUTBOUND_STUCK_MINUTES", STUCK_MINUTES)
    )
    report = SweepReport()
    report.scheduled_sent = scheduled.send_due_scheduled_replies(now=now)
    for message_id in _ids(DeliveryStatus.QUEUED, before=stuck_before):
        if delivery.touch_stuck_queued(message_id=message_id, before=stuck_before):
            deliver_ticket_message.enqueue(message_id=message_id)
            report.requeued.append(message_id)
    for message_id in _ids(DeliveryStatus.SENDING, before=stuck_before):
        services.mark_outcome_unknown(
            message_id=message_id,
            code="worker_lost",
            error="The sending worker stopped during the provider call.",
        )
    # Unknown keeps its claim's time, so the ones just marked are among these.
    for message_id in _ids(DeliveryStatus.UNKNOWN, before=stuck_before):
        outcome = router.settle_unknown(message_id=message_id)
        if outcome.status != DeliveryStatus.UNKNOWN:
            report.reconciled.append(message_id)
        if outcome.retry_in is not None:
            retry_later(deliver_ticket_message, retry_in=outcome.retry_in, message_id=message_id)
            report.requeued.append(message_id)
    wait = getattr(settings, "OUTBOUND_RECONCILE_WAIT_MINUTES", RECONCILE_WAIT_MINUTES)
    unheard = _ids(
        DeliveryStatus.UNKNOWN, before=now - timedelta(minutes=wait), channel=ChannelKind.EMAIL
    )
    for message_id in unheard:
        services.requeue_unknown(message_id=message_id)
        deliver_ticket_message.enqueue(message_id=message_id)
        report.requeued.append(message_id)
    return report


def _ids(status: str, *, before: datetime, channel: str | None = None) -> list[int]:
    messages = TicketMessage.objects.filter(
        delivery.unchanged_since(before),
        direction=MessageDirection.OUTBOUND,
        delivery_status=status,
    )
    if channel is not None:
        messages = messages.filter(channel=channel)
    return list(messages.order_by("pk").values_list("pk", flat=True)[:BATCH])
