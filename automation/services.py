"""Automation writes: running rules and performing their actions through the tickets and comms
services (never writing their models directly), round-robin assignment, reply collisions."""

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.forms import BaseModelFormSet
from django.utils import timezone

from accounts.audit import record_audit
from accounts.models import Role, Team, User
from accounts.permissions import Action, can, require
from accounts.services import get_automation_actor
from analytics.services import record_event
from automation.calendar import is_business_time, schedule_for
from automation.dispatch import MAX_DEPTH, rule_origin
from automation.models import (
    BusinessCalendar,
    Rule,
    RuleRun,
    SlaPolicy,
    WebhookDelivery,
    WebhookEndpoint,
)
from automation.rules import (
    TicketFacts,
    condition_holds,
    conditions_hold,
    describe_action,
    render_message,
)
from comms.models import Channel, PresenceStatus
from comms.services import post_message
from core.errors import ApplicationError
from core.redaction import mask_json, mentions_any
from integrations.context_refresh import refresh_customer_context
from integrations.selectors import get_customer_context
from tickets import routing
from tickets import services as ticket_services
from tickets.custom_fields import set_ticket_fields
from tickets.history import record_ticket_event
from tickets.models import (
    DeliveryStatus,
    HistoryKind,
    SavedReply,
    Ticket,
    TicketAssignment,
    TicketStatus,
)
from tickets.saved_replies import render_saved_reply
from tickets.tags import add_ticket_tags

logger = logging.getLogger(__name__)

# Customer facts --------------------------------------------------------------------------------


def lookup_vip(ticket: Ticket) -> tuple[bool, str]:
    """(is VIP, tier) from the PERP VIP wallet in the stored customer context.

    A missing or stale PERP section is refreshed first, here: rules run in a task and hold no
    lock, and a rule on a new customer's first ticket must not see "not VIP" only because no
    page has asked PERP yet. A PERP that is down, not configured, or does not know the customer
    counts as not VIP: the refresh stores the error next to the last good snapshot instead of
    raising, and its interactive retry policy bounds the wait.
    """
    context = get_customer_context(customer=ticket.customer)
    if context.perp_state.is_stale:
        context = (
            refresh_customer_context(customer_id=ticket.customer_id, is_interactive=True) or context
        )
    wallet = context.perp.wallet if context.perp is not None else None
    return (wallet is not None, wallet.tier if wallet is not None else "")


def default_calendar() -> BusinessCalendar | None:
    return (
        BusinessCalendar.objects.prefetch_related("hours", "holidays")
        .filter(is_default=True)
        .first()
    )


# Rules -----------------------------------------------------------------------------------------


def facts_builder() -> Callable[[Ticket], TicketFacts]:
    """What rules see of a ticket: one VIP lookup per customer and the default calendar's hours.

    Shared by `run_rules` and the staff pages' dry run, so a test shows what a run would do.
    """
    schedule = schedule_for(default_calendar())
    vip_cache: dict[int, tuple[bool, str]] = {}

    def vip(ticket: Ticket) -> tuple[bool, str]:
        if ticket.customer_id not in vip_cache:
            vip_cache[ticket.customer_id] = lookup_vip(ticket)
        return vip_cache[ticket.customer_id]

    def in_business_hours() -> bool:
        return is_business_time(schedule, timezone.now())

    def build(ticket: Ticket) -> TicketFacts:
        return TicketFacts(ticket=ticket, vip_lookup=vip, business_hours_check=in_business_hours)

    return build


@dataclass(frozen=True)
class RunResult:
    runs: list[RuleRun]
    skipped_for_depth: bool = False


def run_rules(
    *, event: str, ticket_id: int, depth: int = 0, skip_rule_ids: list[int] | None = None
) -> RunResult:
    """Run the active rules for `event` on a ticket, in order, recording each that fires.

    `skip_rule_ids` are the rules whose actions caused this event (loop prevention): they and
    the rules fired in this run are skipped for the events these actions cause. Beyond
    `MAX_DEPTH` chained events nothing runs.
    """
    if depth > MAX_DEPTH:
        logger.warning("automation.rules.depth_cap event=%s ticket=%s", event, ticket_id)
        return RunResult(runs=[], skipped_for_depth=True)
    rules = list(
        Rule.objects.filter(event=event, is_active=True)
        .exclude(pk__in=skip_rule_ids or [])
        .order_by("position", "pk")
    )
    if not rules:
        return RunResult(runs=[])
    facts_for = facts_builder()
    chain = set(skip_rule_ids or [])
    runs = []
    for rule in rules:
        ticket = (
            Ticket.objects.select_related("customer", "assignee", "team")
            .filter(pk=ticket_id)
            .first()
        )
        if ticket is None or ticket.status == TicketStatus.CLOSED:
            break
        if not conditions_hold(rule.conditions, facts_for(ticket)):
            continue
        runs.append(
            _fire(rule=rule, ticket=ticket, event=event, depth=depth, chain=chain | {rule.pk})
        )
        chain.add(rule.pk)
        if rule.stop_processing:
            break
    return RunResult(runs=runs)


def _fire(*, rule: Rule, ticket: Ticket, event: str, depth: int, chain: set[int]) -> RuleRun:
    actor = get_automation_actor()
    performed: list[str] = []
    error = ""
    with rule_origin(depth=depth, rule_ids=frozenset(chain)):
        for action in rule.actions:
            try:
                performed.append(
                    perform_action(action=action, ticket=ticket, actor=actor, rule=rule)
                )
            except (ApplicationError, ObjectMissing) as exc:
                error = f"{action.get('type')}: {exc}"
                logger.warning(
                    "automation.action_failed rule=%s ticket=%s %s", rule.pk, ticket.pk, error
                )
                break
            ticket.refresh_from_db()
    with transaction.atomic():
        run = RuleRun.objects.create(
            rule=rule,
            rule_name=rule.name,
            ticket=ticket,
            event=event,
            depth=depth,
            performed=performed,
            error=error,
        )
        record_ticket_event(
            ticket_id=ticket.pk,
            actor_id=actor.pk,
            kind=HistoryKind.RULE,
            name=rule.name,
            before=event,
            after=performed,
        )
        record_event(
            name="automation.rule_fired",
            ticket=ticket,
            subject=run,
            properties={"rule": rule.pk, "event": event, "depth": depth, "error": bool(error)},
        )
        ticket_services.publish_ticket_updated_on_commit(ticket)
    return run


@dataclass(frozen=True)
class ConditionCheck:
    condition: dict
    holds: bool


@dataclass(frozen=True)
class DryRun:
    """What `rule` would do to a ticket now: nothing is performed or recorded."""

    checks: list[ConditionCheck]
    matches: bool
    would_run: list[str]
    skipped_because: str


def dry_run_rule(*, rule: Rule, ticket: Ticket) -> DryRun:
    """Evaluate `rule` on `ticket` with the engine's own facts and condition code, without
    performing its actions (the "Test against a ticket" page).

    Every condition is evaluated (the engine stops at the first that fails) so the page can
    show each one. A VIP condition may refresh the stored PERP context, as a real run would.
    """
    facts = facts_builder()(ticket)
    checks = [ConditionCheck(condition=c, holds=condition_holds(c, facts)) for c in rule.conditions]
    matches = all(check.holds for check in checks)
    skipped_because = ""
    if ticket.status == TicketStatus.CLOSED:
        skipped_because = "Rules do not run on closed tickets."
    elif not rule.is_active:
        skipped_because = "The rule is inactive: it runs only once activated."
    would_run = (
        [describe_action(a, ticket) for a in rule.actions]
        if matches and not skipped_because
        else []
    )
    return DryRun(
        checks=checks, matches=matches, would_run=would_run, skipped_because=skipped_because
    )


@transaction.atomic
def save_rule(*, actor: User, rule: Rule) -> Rule:
    """Create or update a rule validated by `automation.forms.RuleForm` (the staff pages)."""
    require(actor, Action.MANAGE_AUTOMATION)
    created = rule.pk is None
    rule.save()
    record_audit(
        action="automation.rule_created" if created else "automation.rule_changed",
        actor=actor,
        target=rule,
        details={"event": rule.event, "is_active": rule.is_active},
    )
    return rule


@transaction.atomic
def set_rule_active(*, actor: User, rule: Rule, is_active: bool) -> Rule:
    require(actor, Action.MANAGE_AUTOMATION)
    rule.is_active = is_active
    rule.save(update_fields=["is_active", "updated_at"])
    record_audit(
        action="automation.rule_activated" if is_active else "automation.rule_deactivated",
        actor=actor,
        target=rule,
    )
    return rule


# SLA policies and business calendars (staff pages) -------------------------------------------


@transaction.atomic
def save_sla_policy(*, actor: User, policy: SlaPolicy) -> SlaPolicy:
    """Create or update a policy validated by `automation.forms.SlaPolicyForm`.

    Like an admin edit, new targets apply when a ticket's SLA is next refreshed.
    """
    require(actor, Action.MANAGE_AUTOMATION)
    created = policy.pk is None
    policy.save()
    record_audit(
        action="automation.sla_policy_created" if created else "automation.sla_policy_changed",
        actor=actor,
        target=policy,
        details={
            "priority": policy.priority,
            "channel": policy.channel,
            "first_response_minutes": policy.first_response_minutes,
            "next_response_minutes": policy.next_response_minutes,
            "resolution_minutes": policy.resolution_minutes,
        },
    )
    return policy


@transaction.atomic
def save_calendar(
    *, actor: User, calendar: BusinessCalendar, hours: BaseModelFormSet, holidays: BaseModelFormSet
) -> BusinessCalendar:
    """Save a calendar with its validated working-hours and holiday formsets.

    Making it the default takes the mark from the previous default (one default calendar).
    """
    require(actor, Action.MANAGE_AUTOMATION)
    created = calendar.pk is None
    if calendar.is_default:
        BusinessCalendar.objects.filter(is_default=True).exclude(pk=calendar.pk).update(
            is_default=False
        )
    calendar.save()
    for formset in (hours, holidays):
        formset.instance = calendar
        formset.save()
    record_audit(
        action="automation.calendar_created" if created else "automation.calendar_changed",
        actor=actor,
        target=calendar,
        details={"timezone": calendar.timezone, "is_default": calendar.is_default},
    )
    return calendar


# Outbound webhook endpoints (staff pages) -------------------------------------------------------


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


@transaction.atomic
def save_webhook_endpoint(*, actor: User, endpoint: WebhookEndpoint) -> tuple[WebhookEndpoint, str]:
    """Create or update an endpoint validated by `StaffWebhookEndpointForm`.

    A new endpoint gets a generated secret, returned once for the page to show (it stays
    stored: signing needs it). Returns the endpoint and that secret ("" on updates).
    """
    require(actor, Action.MANAGE_AUTOMATION)
    created = endpoint.pk is None
    secret = new_webhook_secret() if created else ""
    if created:
        endpoint.secret = secret
    endpoint.save()
    record_audit(
        action="automation.webhook_created" if created else "automation.webhook_changed",
        actor=actor,
        target=endpoint,
        details={"url": endpoint.url, "events": endpoint.events, "is_active": endpoint.is_active},
    )
    return endpoint, secret


@transaction.atomic
def rotate_webhook_secret(*, actor: User, endpoint: WebhookEndpoint) -> str:
    """A new signing secret, effective for the next delivery; returned once for the page."""
    require(actor, Action.MANAGE_AUTOMATION)
    endpoint.secret = new_webhook_secret()
    endpoint.save(update_fields=["secret"])
    record_audit(action="automation.webhook_secret_rotated", actor=actor, target=endpoint)
    return endpoint.secret


class ObjectMissing(Exception):
    """A rule names a user, team, channel or saved reply that no longer exists."""


def _get(model, **lookup):
    found = model.objects.filter(**lookup).first()
    if found is None:
        raise ObjectMissing(f"{model._meta.verbose_name} {lookup} no longer exists")
    return found


def perform_action(*, action: dict, ticket: Ticket, actor: User, rule: Rule) -> str:
    """Do one action through the owning app's service; returns a line for the rule log."""
    kind = action["type"]
    reason = f"Rule: {rule.name}"
    if kind == "assign_agent":
        user = _get(User, username=action["user"], is_active=True)
        ticket_services.assign_ticket(
            ticket=ticket, actor=actor, assignee=user, team=ticket.team, reason=reason
        )
        return f"Assigned to {user}"
    if kind == "assign_team":
        team = _get(Team, slug=action["team"])
        agent = pick_round_robin_agent(team=team) if action.get("round_robin", True) else None
        ticket_services.assign_ticket(
            ticket=ticket, actor=actor, assignee=agent, team=team, reason=reason
        )
        return f"Assigned to {team}" + (f" ({agent})" if agent else " (nobody online with room)")
    if kind == "set_priority":
        ticket_services.change_priority(ticket=ticket, actor=actor, priority=action["priority"])
        return f"Priority set to {action['priority']}"
    if kind == "set_status":
        ticket_services.change_status(ticket=ticket, actor=actor, status=action["status"])
        return f"Status set to {action['status']}"
    if kind == "add_note":
        ticket_services.add_internal_note(
            ticket=ticket, author=actor, body=render_message(action["body"], ticket)
        )
        return "Note added"
    if kind == "send_saved_reply":
        saved = _get(SavedReply, title=action["saved_reply"])
        sent = ticket_services.send_automated_message(
            ticket=ticket, body=render_saved_reply(saved_reply=saved, ticket=ticket)
        )
        if sent.delivery_status == DeliveryStatus.SKIPPED:
            # The channel's rules refused it (a closed window): recorded on the timeline.
            return f"Skipped saved reply “{saved.title}”: {sent.error_code}"
        return f"Sent saved reply “{saved.title}”"
    if kind == "notify_channel":
        channel = _get(Channel, slug=action["channel"], is_archived=False)
        template = action.get("message") or "{reference} “{subject}” {url}"
        post_message(
            channel=channel, author=actor, body=f"{reason} · {render_message(template, ticket)}"
        )
        return f"Notified #{channel.slug}"
    if kind == "escalate":
        team = _get(Team, slug=action["team"]) if action.get("team") else None
        user = _get(User, username=action["user"]) if action.get("user") else None
        routing.escalate_ticket(
            ticket=ticket,
            actor=actor,
            reason=render_message(action["reason"], ticket),
            to_user=user,
            to_team=team,
            priority=action.get("priority"),
        )
        return f"Escalated to {team or user}"
    if kind == "add_tags":
        names = add_ticket_tags(ticket=ticket, actor=actor, tags=action["tags"])
        return f"Tags: {', '.join(names)}"
    if kind == "set_field":
        key, value = action["field"], action["value"]
        set_ticket_fields(ticket=ticket, actor=actor, values={key: value})
        return f"{key} set to {value}" if value else f"{key} cleared"
    raise ObjectMissing(f"unknown action type {kind}")


# Round-robin -----------------------------------------------------------------------------------


def pick_round_robin_agent(*, team: Team | None) -> User | None:
    """The online agent (of `team`) with room who was auto-assigned longest ago (never first).

    Room: fewer open tickets than their `max_open_tickets`. Rotating on the last automatic
    assignment spreads new tickets evenly however long each agent's tickets stay open.
    """
    actor = get_automation_actor()
    last_auto = (
        TicketAssignment.objects.filter(to_agent=OuterRef("pk"), assigned_by=actor)
        .order_by("-created_at", "-pk")
        .values("created_at")[:1]
    )
    candidates = (
        User.objects.filter(is_active=True, presence__status=PresenceStatus.ONLINE)
        .exclude(pk=actor.pk)
        .annotate(
            open_count=Count(
                "assigned_tickets", filter=Q(assigned_tickets__status__in=TicketStatus.OPEN_STATES)
            ),
            last_auto_at=Subquery(last_auto),
        )
        .order_by("pk")
    )
    if team is not None:
        candidates = candidates.filter(teams=team)
    eligible = [
        u for u in candidates if u.open_count < u.max_open_tickets and can(u, Action.REPLY_TICKET)
    ]
    if not eligible:
        return None
    never = [u for u in eligible if u.last_auto_at is None]
    if never:
        return never[0]
    return min(eligible, key=lambda u: (u.last_auto_at, u.pk))


def list_admins() -> list[User]:
    return list(
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name=Role.ADMIN))
        .distinct()
    )


@transaction.atomic
def redact_automation_mentions(*, needles: list[str]) -> int:
    """Erasure (docs/privacy.md): outgoing webhook payloads and rule-run logs that carried the
    person's details are masked; delivery states and counts stay."""
    changed = 0
    for model, fields in ((WebhookDelivery, ["payload", "error"]), (RuleRun, ["performed"])):
        for row in model.objects.filter(mentions_any(fields, needles)) if needles else []:
            for name in fields:
                setattr(row, name, mask_json(getattr(row, name), needles))
            row.save(update_fields=fields)
            changed += 1
    return changed
