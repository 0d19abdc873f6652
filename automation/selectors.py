"""Automation reads shared by pages, the API, tasks and the socket."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone

from analytics.models import CustomerSatisfaction
from automation.models import (
    BusinessCalendar,
    Rule,
    RuleRun,
    SlaMetric,
    SlaPolicy,
    TicketSla,
    WebhookDelivery,
    WebhookEndpoint,
)
from core.errors import NotFound
from tickets.models import Ticket, TicketMessage, TicketStatus


def build_webhook_payload(
    *, ticket_id: int, message_id: int | None = None, include_csat: bool = False
) -> dict | None:
    ticket = (
        Ticket.objects.select_related("assignee", "team", "customer").filter(pk=ticket_id).first()
    )
    if ticket is None:
        return None
    payload = {
        "ticket": {
            "reference": ticket.reference,
            "subject": ticket.subject,
            "status": ticket.status,
            "priority": ticket.priority,
            "channel": ticket.channel,
            "assignee": ticket.assignee.username if ticket.assignee_id else None,
            "team": ticket.team.slug if ticket.team_id else None,
            "customer_id": ticket.customer_id,
            "created_at": ticket.created_at.isoformat(),
            "updated_at": ticket.updated_at.isoformat(),
        }
    }
    message = TicketMessage.objects.filter(pk=message_id, ticket=ticket).first()
    if message is not None:
        payload["message"] = {
            "id": message.pk,
            "direction": message.direction,
            "channel": message.channel,
            "body": message.body,
            "is_automated": message.is_automated,
            "created_at": message.created_at.isoformat(),
        }
    survey = (
        CustomerSatisfaction.objects.filter(ticket=ticket, answered_at__isnull=False).first()
        if include_csat
        else None
    )
    if survey is not None:
        payload["csat"] = {
            "rating": survey.rating,
            "comment": survey.comment,
            "answered_at": survey.answered_at.isoformat(),
        }
    return payload


@dataclass(frozen=True)
class Deadline:
    metric: str
    label: str
    due_at: datetime
    is_breached: bool
    is_warned: bool


@dataclass(frozen=True)
class SlaPanel:
    sla: TicketSla | None
    deadlines: list[Deadline]
    runs: list[RuleRun]


def list_open_due_times(*, sla: TicketSla, ticket: Ticket) -> list[tuple[SlaMetric, datetime]]:
    """The deadlines still running on a ticket, soonest first: the one SLA clock that the panel,
    the ticket's `due_at` (inbox, filters, reports, API) and the checker agree on."""
    if ticket.status in TicketStatus.CLOSED_STATES:
        return []
    due_times = []
    for metric in SlaMetric:
        due_at = getattr(sla, f"{metric.value}_due_at")
        if due_at is None:
            continue
        if metric == SlaMetric.FIRST_RESPONSE and ticket.first_response_at is not None:
            continue
        due_times.append((metric, due_at))
    return sorted(due_times, key=lambda item: item[1])


def get_sla_panel(*, ticket: Ticket) -> SlaPanel:
    """The open deadlines of a ticket (soonest first) and the rules that fired on it."""
    sla = TicketSla.objects.select_related("policy").filter(ticket=ticket).first()
    deadlines = []
    for metric, due_at in list_open_due_times(sla=sla, ticket=ticket) if sla else []:
        breached_at = getattr(sla, f"{metric.value}_breached_at")
        deadlines.append(
            Deadline(
                metric=metric.value,
                label=metric.label,
                due_at=due_at,
                is_breached=breached_at is not None or due_at <= timezone.now(),
                is_warned=getattr(sla, f"{metric.value}_warned_at") is not None,
            )
        )
    runs = list(RuleRun.objects.filter(ticket=ticket).order_by("-created_at", "-pk")[:20])
    return SlaPanel(sla=sla, deadlines=deadlines, runs=runs)


def list_rules_with_run_stats(*, now: datetime | None = None) -> list[Rule]:
    """Every rule, by event and position, with `last_run_at` and `runs_7d` (runs in 7 days)."""
    since = (now or timezone.now()) - timedelta(days=7)
    return list(
        Rule.objects.annotate(
            last_run_at=Max("runs__created_at"),
            runs_7d=Count("runs", filter=Q(runs__created_at__gte=since)),
        ).order_by("event", "position", "pk")
    )


def get_rule(*, rule_id: int) -> Rule:
    rule = Rule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound("No such rule.")
    return rule


def list_recent_rule_runs(*, rule: Rule | None = None, limit: int = 50) -> list[RuleRun]:
    """The newest rule runs (of one rule, or of all), with their tickets."""
    runs = RuleRun.objects.select_related("ticket").order_by("-created_at", "-pk")
    if rule is not None:
        runs = runs.filter(rule=rule)
    return list(runs[:limit])


def list_sla_policies() -> list[SlaPolicy]:
    return list(SlaPolicy.objects.select_related("calendar").order_by("priority", "channel"))


def get_sla_policy(*, policy_id: int) -> SlaPolicy:
    policy = SlaPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        raise NotFound("No such SLA policy.")
    return policy


def list_calendars() -> list[BusinessCalendar]:
    return list(BusinessCalendar.objects.prefetch_related("hours", "holidays").order_by("name"))


def get_calendar(*, calendar_id: int) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.filter(pk=calendar_id).first()
    if calendar is None:
        raise NotFound("No such business calendar.")
    return calendar


def list_webhook_endpoints() -> list[WebhookEndpoint]:
    return list(WebhookEndpoint.objects.order_by("name", "pk"))


def get_webhook_endpoint(*, endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("No such webhook endpoint.")
    return endpoint


def list_recent_deliveries(*, endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookDelivery]:
    return list(endpoint.deliveries.order_by("-created_at", "-pk")[:limit])
