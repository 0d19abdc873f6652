"""SLA state per ticket: deadlines in business time, ship-date deadlines from PERP, and the
periodic check that marks warnings and breaches (idempotently), notifies and fires rule events.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import get_automation_actor
from analytics.services import record_event
from automation.calendar import Schedule, add_business_minutes, schedule_for
from automation.dispatch import TicketEventKind, dispatch_event_on_commit
from automation.models import SlaMetric, SlaPolicy, TicketSla
from automation.selectors import list_open_due_times
from comms.models import Channel, NotificationKind
from comms.services import notify_user, post_message
from core.errors import ApplicationError
from integrations.clients import ProviderError
from integrations.context_refresh import INTERACTIVE
from integrations.perp.client import PerpClient
from integrations.perp.types import ORDER_NUMBER, PerpOrder
from integrations.selectors import list_ticket_order_numbers
from printshop.selectors import list_ticket_orders
from tickets import routing
from tickets import services as ticket_services
from tickets.history import record_ticket_event
from tickets.models import HistoryKind, MessageDirection, Ticket, TicketPriority, TicketStatus
from tickets.snooze import wake_due_snoozes

logger = logging.getLogger(__name__)

METRICS = [m.value for m in SlaMetric]
PRODUCTION_CHANNEL = "production"
# How long each remaining production stage still needs (wall clock) before an order can ship.
# A job whose stage needs longer than is left until the promised date cannot make it.
STAGE_LEAD_TIME = {
    "prepress": timedelta(days=3),
    "printing": timedelta(days=2),
    "finishing": timedelta(days=1),
    "packing": timedelta(hours=4),
    "shipped": timedelta(0),
}
OPEN_ORDER_STATUSES = ("received", "in_production")
MAX_ORDER_LOOKUPS = 3
# The fallback policy's clock: no working hours means every minute counts.
AROUND_THE_CLOCK = Schedule(tz=ZoneInfo(settings.TIME_ZONE))


def fallback_policy(*, priority: str) -> SlaPolicy:
    """The policy of a ticket no admin policy covers: the settings target for its priority,
    around the clock, for every deadline (unsaved; a ticket on it has no `policy` row)."""
    minutes = settings.TICKET_SLA_MINUTES[priority]
    return SlaPolicy(
        name="Default target",
        priority=priority,
        first_response_minutes=minutes,
        next_response_minutes=minutes,
        resolution_minutes=minutes,
    )


def get_policy(*, priority: str, channel: str) -> SlaPolicy | None:
    """The active policy for this priority: the channel's own first, else the every-channel one."""
    policies = (
        SlaPolicy.objects.filter(is_active=True, priority=priority)
        .filter(Q(channel=channel) | Q(channel=""))
        .select_related("calendar")
        .prefetch_related("calendar__hours", "calendar__holidays")
    )
    return min(policies, key=lambda p: p.channel == "", default=None)


def _schedule_of(policy: SlaPolicy | None) -> Schedule:
    return AROUND_THE_CLOCK if policy is None else schedule_for(policy.calendar)


def get_sla_schedule(*, priority: str, channel: str) -> Schedule:
    """The business calendar a ticket of this priority and channel is measured in."""
    return _schedule_of(get_policy(priority=priority, channel=channel))


def _awaiting_reply_since(ticket: Ticket) -> datetime | None:
    """When the customer wrote after our last human reply (next-response clock), else None."""
    if ticket.first_response_at is None or ticket.last_customer_message_at is None:
        return None
    last_reply = (
        ticket.messages.filter(direction=MessageDirection.OUTBOUND, is_automated=False)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last_reply is not None and last_reply >= ticket.last_customer_message_at:
        return None
    return ticket.last_customer_message_at


def refresh_ticket_sla(*, ticket_id: int, link_order: bool = False) -> TicketSla | None:
    """Recompute a ticket's deadlines from its policy; a moved deadline clears its marks.

    With `link_order`, the PERP order the ticket is about is looked up first, before the SLA row
    is locked: no HTTP call runs while the lock is held.
    """
    ticket = Ticket.objects.select_related("customer").filter(pk=ticket_id).first()
    if ticket is None:
        return None
    order = None
    linked_id = TicketSla.objects.filter(ticket=ticket).values_list("perp_order_id", flat=True)
    if link_order and not linked_id.first():
        order = _find_perp_order(ticket=ticket)
    return _apply_ticket_sla(ticket=ticket, order=order)


@transaction.atomic
def _apply_ticket_sla(*, ticket: Ticket, order: PerpOrder | None) -> TicketSla:
    # FOR UPDATE: the periodic check and ticket events refresh the same row.
    sla, _ = TicketSla.objects.select_for_update().get_or_create(ticket=ticket)
    if order is not None and not sla.perp_order_id:
        sla.perp_order_id = order.id
        sla.perp_order_number = order.number
        sla.promised_ship_at = order.due_at
    policy = get_policy(priority=ticket.priority, channel=ticket.channel)
    sla.policy = policy
    schedule = _schedule_of(policy)
    policy = policy or fallback_policy(priority=ticket.priority)
    due: dict[str, datetime | None] = dict.fromkeys(METRICS)
    due[SlaMetric.FIRST_RESPONSE] = add_business_minutes(
        schedule, ticket.created_at, policy.first_response_minutes
    )
    waiting_since = _awaiting_reply_since(ticket)
    if waiting_since is not None:
        due[SlaMetric.NEXT_RESPONSE] = add_business_minutes(
            schedule, waiting_since, policy.next_response_minutes
        )
    due[SlaMetric.RESOLUTION] = add_business_minutes(
        schedule, ticket.created_at, policy.resolution_minutes
    )
    if sla.promised_ship_at is not None:
        margin = timedelta(minutes=policy.ship_date_margin_minutes)
        ship_due = sla.promised_ship_at - margin
        current = due[SlaMetric.RESOLUTION]
        due[SlaMetric.RESOLUTION] = ship_due if current is None else min(current, ship_due)
    now = timezone.now()
    for metric, due_at in due.items():
        if getattr(sla, f"{metric}_due_at") != due_at:
            setattr(sla, f"{metric}_due_at", due_at)
            if due_at is None or due_at > now:
                setattr(sla, f"{metric}_warned_at", None)
                setattr(sla, f"{metric}_breached_at", None)
    sla.save()
    ticket_services.set_sla_due_at(ticket=ticket, due_at=_ticket_due_at(sla=sla, ticket=ticket))
    return sla


def _ticket_due_at(*, sla: TicketSla, ticket: Ticket) -> datetime | None:
    """What the ticket shows as due: the soonest running deadline; once solved or closed, the
    resolution deadline it was measured against (reports compare it with `resolved_at`)."""
    if ticket.status in TicketStatus.CLOSED_STATES:
        return sla.resolution_due_at
    running = list_open_due_times(sla=sla, ticket=ticket)
    return running[0][1] if running else None


def _find_perp_order(*, ticket: Ticket) -> PerpOrder | None:
    """The PERP order the ticket is about, for its promised ship date: an order linked to the
    ticket (printshop, by staff or from a message) first, else one the conversation names
    (PD-ORD-…). Only orders still received or in production count."""
    if not PerpClient.is_configured():
        return None
    linked = [order.number for order in list_ticket_orders(ticket=ticket)]
    named = list_ticket_order_numbers(ticket=ticket)
    numbers = [n for n in dict.fromkeys([*linked, *named]) if ORDER_NUMBER.fullmatch(n)]
    client = PerpClient.from_settings(**INTERACTIVE)
    for number in numbers[:MAX_ORDER_LOOKUPS]:
        try:
            order = client.search_order_by_number(number)
        except ProviderError as exc:
            # Retried on the next event or check; SLA works without the ship date meanwhile.
            logger.warning("automation.sla.perp_unavailable ticket=%s error=%s", ticket.pk, exc)
            return None
        if order is not None and order.status in OPEN_ORDER_STATUSES and order.due_at:
            return order
    return None


# Periodic check ----------------------------------------------------------------------------------


@dataclass
class CheckReport:
    refreshed: int = 0
    warned: list[tuple[int, str]] = field(default_factory=list)
    breached: list[tuple[int, str]] = field(default_factory=list)
    production_risks: list[int] = field(default_factory=list)
    woken: list[int] = field(default_factory=list)


def run_sla_checks(*, now: datetime | None = None) -> CheckReport:
    """Mark due warnings and breaches once each; safe to run as often as you like."""
    now = now or timezone.now()
    report = CheckReport()
    missing = Ticket.objects.filter(
        status__in=TicketStatus.OPEN_STATES, sla__isnull=True
    ).values_list("pk", flat=True)
    for ticket_id in list(missing[:500]):
        refresh_ticket_sla(ticket_id=ticket_id, link_order=True)
        report.refreshed += 1
    for metric in METRICS:
        due, warned, breached = f"{metric}_due_at", f"{metric}_warned_at", f"{metric}_breached_at"
        pending = TicketSla.objects.filter(
            ticket__status__in=TicketStatus.OPEN_STATES,
            **{f"{due}__isnull": False, f"{breached}__isnull": True},
        ).select_related("policy", "ticket")
        if metric == SlaMetric.FIRST_RESPONSE:
            pending = pending.filter(ticket__first_response_at__isnull=True)
        for sla in pending.filter(**{f"{due}__lte": now}):
            if _mark(sla=sla, field_name=breached, now=now, metric=metric, kind="breached"):
                report.breached.append((sla.ticket_id, metric))
        for sla in pending.filter(**{f"{warned}__isnull": True}):
            warn_at = getattr(sla, due) - timedelta(
                minutes=sla.policy.warn_before_minutes if sla.policy else 30
            )
            if warn_at <= now < getattr(sla, due) and _mark(
                sla=sla, field_name=warned, now=now, metric=metric, kind="warning"
            ):
                report.warned.append((sla.ticket_id, metric))
    report.production_risks = check_production_risks(now=now)
    # The same periodic run brings snoozed tickets back when their time comes.
    report.woken = wake_due_snoozes(now=now)
    return report


@transaction.atomic
def _mark(*, sla: TicketSla, field_name: str, now: datetime, metric: str, kind: str) -> bool:
    # Conditional UPDATE: two checkers running at once mark (and notify) exactly once.
    if not TicketSla.objects.filter(pk=sla.pk, **{f"{field_name}__isnull": True}).update(
        **{field_name: now}
    ):
        return False
    ticket = sla.ticket
    label = SlaMetric(metric).label.lower()
    title = (
        f"SLA breached: {label} on {ticket.reference}"
        if kind == "breached"
        else f"SLA warning: {label} on {ticket.reference} is due soon"
    )
    for recipient in _sla_recipients(ticket):
        notify_user(
            recipient=recipient,
            kind=NotificationKind.SYSTEM,
            title=title,
            body=ticket.subject,
            url=ticket_services.ticket_url(ticket),
        )
    record_ticket_event(
        ticket_id=ticket.pk, actor_id=None, kind=HistoryKind.SLA, name=label, after=kind
    )
    record_event(name=f"sla.{kind}", ticket=ticket, properties={"metric": metric})
    dispatch_event_on_commit(event=TicketEventKind(f"sla.{kind}"), ticket_id=ticket.pk)
    ticket_services.publish_ticket_updated_on_commit(ticket)
    return True


def _sla_recipients(ticket: Ticket) -> list[User]:
    if ticket.assignee_id is not None:
        return [ticket.assignee]
    if ticket.team_id is not None:
        members = list(ticket.team.members.filter(is_active=True))
        if members:
            return members
    return list(User.objects.filter(is_active=True, groups__name=Role.MANAGER))


# Ship dates ------------------------------------------------------------------------------------


def production_is_at_risk(*, jobs: list, promised_ship_at: datetime, now: datetime) -> bool:
    """True when some unfinished job cannot be ready by the promised ship date."""
    for job in jobs:
        if job.status == "done" or job.stage == "shipped":
            continue
        if job.estimated_ready_at is not None and job.estimated_ready_at > promised_ship_at:
            return True
        if now + STAGE_LEAD_TIME.get(job.stage, timedelta(0)) > promised_ship_at:
            return True
    return False


def check_production_risks(*, now: datetime) -> list[int]:
    """Raise priority and tell #production about tickets whose order can no longer ship on time."""
    if not PerpClient.is_configured():
        return []
    flagged = []
    candidates = TicketSla.objects.filter(
        ticket__status__in=TicketStatus.OPEN_STATES,
        promised_ship_at__isnull=False,
        production_risk_at__isnull=True,
    ).exclude(perp_order_id="")
    client = PerpClient.from_settings(**INTERACTIVE)
    for sla in candidates.select_related("ticket"):
        try:
            production = client.get_production_status(sla.perp_order_id)
        except ProviderError as exc:
            logger.warning("automation.sla.production_unavailable ticket=%s %s", sla.ticket_id, exc)
            continue
        if production_is_at_risk(
            jobs=production.jobs, promised_ship_at=sla.promised_ship_at, now=now
        ) and flag_production_risk(sla_id=sla.pk, stage=production.status, now=now):
            flagged.append(sla.ticket_id)
    return flagged


@transaction.atomic
def flag_production_risk(*, sla_id: int, stage: str, now: datetime) -> bool:
    if not TicketSla.objects.filter(pk=sla_id, production_risk_at__isnull=True).update(
        production_risk_at=now
    ):
        return False
    sla = TicketSla.objects.select_related("ticket").get(pk=sla_id)
    ticket, actor = sla.ticket, get_automation_actor()
    raised = routing.next_priority(ticket.priority)
    if ticket.priority == TicketPriority.LOW:
        raised = TicketPriority.HIGH
    ticket_services.change_priority(ticket=ticket, actor=actor, priority=raised)
    channel = Channel.objects.filter(slug=PRODUCTION_CHANNEL, is_archived=False).first()
    if channel is not None:
        try:
            post_message(
                channel=channel,
                author=actor,
                body=(
                    f"{sla.perp_order_number} is at {stage} and cannot make its promised ship "
                    f"date {sla.promised_ship_at:%Y-%m-%d %H:%M %Z}. Customer ticket "
                    f"{ticket.reference}: {ticket_services.ticket_url(ticket)}"
                ),
            )
        except ApplicationError as exc:
            logger.warning("automation.sla.production_notice_failed %s", exc)
    record_event(
        name="sla.production_risk",
        ticket=ticket,
        properties={"order": sla.perp_order_number, "stage": stage, "priority": raised},
    )
    return True
