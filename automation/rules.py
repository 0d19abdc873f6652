"""The rule format: validation of conditions/actions, and matching conditions against a ticket.

A condition is `{"field": ..., "op": ..., "value": ...}`; all of a rule's conditions must hold.
An action is `{"type": ..., <params>}`; docs/automation.md lists them with examples.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.core.exceptions import ValidationError

from accounts.models import Team, User
from comms.models import Channel
from core.errors import ApplicationError
from tickets.field_types import clean_value
from tickets.models import (
    ChannelKind,
    CustomField,
    CustomFieldTarget,
    MessageDirection,
    SavedReply,
    Ticket,
    TicketPriority,
    TicketStatus,
)
from tickets.tags import normalize_tags

CHOICE_OPS = ("equals", "not_equals", "in", "not_in")
TEXT_OPS = ("contains", "not_contains", "equals")
REF_OPS = ("equals", "not_equals", "is_set", "is_unset")
BOOL_OPS = ("equals",)
TAG_OPS = ("contains", "not_contains")
FIELD_OPS = ("equals", "not_equals", "contains", "not_contains", "is_set", "is_unset")

# field -> (ops, allowed values or None for free text / references, kind)
CONDITION_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...] | None, str]] = {
    "channel": (CHOICE_OPS, tuple(ChannelKind.values), "choice"),
    "status": (CHOICE_OPS, tuple(TicketStatus.values), "choice"),
    "priority": (CHOICE_OPS, tuple(TicketPriority.values), "choice"),
    "assignee": (REF_OPS, None, "user"),
    "team": (REF_OPS, None, "team"),
    "subject": (TEXT_OPS, None, "text"),
    "body": (TEXT_OPS, None, "text"),
    "customer_identity": (TEXT_OPS, None, "text"),
    "customer_is_vip": (BOOL_OPS, None, "bool"),
    "customer_vip_tier": (CHOICE_OPS, None, "choice"),
    "in_business_hours": (BOOL_OPS, None, "bool"),
    "tags": (TAG_OPS, None, "text"),
}

# action type -> required params (name -> kind), optional params
ACTION_TYPES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "assign_agent": ({"user": "user"}, {}),
    "assign_team": ({"team": "team"}, {"round_robin": "bool"}),
    "set_priority": ({"priority": "priority"}, {}),
    "set_status": ({"status": "status"}, {}),
    "add_note": ({"body": "text"}, {}),
    "send_saved_reply": ({"saved_reply": "saved_reply"}, {}),
    "notify_channel": ({"channel": "channel"}, {"message": "text"}),
    "escalate": ({"reason": "text"}, {"team": "team", "user": "user", "priority": "priority"}),
    "add_tags": ({"tags": "tags"}, {}),
    "set_field": ({"field": "ticket_field", "value": "field_value"}, {}),
}

FORMAT_HELP = (
    'Conditions: a JSON list of {"field", "op", "value"}. Fields: '
    + ", ".join(CONDITION_FIELDS)
    + ", field.<key> (a ticket field), customer_field.<key> (a customer field)"
    + ". Ops: equals, not_equals, in, not_in (lists), contains, not_contains (text), "
    "is_set, is_unset (assignee, team, custom fields). Users by username, teams and channels "
    "by slug."
)
ACTIONS_HELP = (
    'Actions: a JSON list of {"type", ...}. Types: '
    + "; ".join(
        f"{name}({', '.join([*req, *(o + '?' for o in opt)])})"
        for name, (req, opt) in ACTION_TYPES.items()
    )
    + ". Saved replies by title; tags as a list of names; set_field takes a ticket field's key "
    "and a value (empty clears it). Messages may use {reference}, "
    "{subject} and {url}."
)


def _fail(index: int, message: str) -> None:
    raise ValidationError(f"Item {index + 1}: {message}")


def _check_reference(index: int, kind: str, value: Any) -> None:
    if kind == "bool":
        if not isinstance(value, bool):
            _fail(index, "expected true or false.")
        return
    if kind == "tags":
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            _fail(index, "expected a non-empty list of tag names.")
        try:
            normalize_tags(value)
        except ApplicationError as exc:
            _fail(index, exc.message)
        return
    if kind == "field_value":
        if not isinstance(value, str):
            _fail(index, "expected the field's value as a string (empty clears it).")
        return
    if not isinstance(value, str) or not value.strip():
        _fail(index, f"expected a non-empty {kind}.")
    lookups: dict[str, Callable[[str], bool]] = {
        "user": lambda v: User.objects.filter(username=v, is_active=True).exists(),
        "team": lambda v: Team.objects.filter(slug=v).exists(),
        "channel": lambda v: Channel.objects.filter(slug=v, is_archived=False).exists(),
        "saved_reply": lambda v: SavedReply.objects.filter(title=v).exists(),
        "priority": lambda v: v in TicketPriority.values,
        "status": lambda v: v in TicketStatus.values,
        "text": lambda v: True,
        "ticket_field": lambda v: custom_field_named(f"{TICKET_FIELD_PREFIX}{v}") is not None,
    }
    if not lookups[kind](value):
        _fail(index, f"no {kind.replace('_', ' ')} '{value}'.")


TICKET_FIELD_PREFIX = "field."
CUSTOMER_FIELD_PREFIX = "customer_field."
FIELD_PREFIXES = {
    TICKET_FIELD_PREFIX: CustomFieldTarget.TICKET,
    CUSTOMER_FIELD_PREFIX: CustomFieldTarget.CUSTOMER,
}


def is_custom_field(name: str) -> bool:
    return name.startswith(tuple(FIELD_PREFIXES))


def custom_field_named(name: Any) -> CustomField | None:
    """The active field behind `field.<key>` (a ticket's) or `customer_field.<key>`."""
    if not isinstance(name, str):
        return None
    for prefix, target in FIELD_PREFIXES.items():
        if name.startswith(prefix):
            key = name.removeprefix(prefix)
            return CustomField.objects.filter(key=key, applies_to=target, is_active=True).first()
    return None


def condition_spec(name: Any) -> tuple[tuple[str, ...], tuple[str, ...] | None, str] | None:
    """A fixed condition field, or a custom field (`field.<key>`, `customer_field.<key>`)."""
    if isinstance(name, str) and is_custom_field(name):
        return (FIELD_OPS, None, "text") if custom_field_named(name) is not None else None
    return CONDITION_FIELDS.get(name)


def _check_field_value(index: int, field: CustomField, value: Any) -> None:
    """A value a field can hold, written as it is stored (rules compare stored text)."""
    if not isinstance(value, str):
        _fail(index, "expected the field's value as a string.")
    try:
        canonical = clean_value(field, value)
    except ApplicationError as exc:
        _fail(index, f"{field.key}: {exc.message}")
    if value and canonical != value:
        _fail(index, f"{field.key}: write '{canonical}', as the field stores it.")


def validate_conditions(conditions: Any) -> None:
    if not isinstance(conditions, list):
        raise ValidationError("Conditions are a JSON list (empty: always).")
    for index, condition in enumerate(conditions):
        if not isinstance(condition, dict) or set(condition) - {"field", "op", "value"}:
            _fail(index, 'a condition is {"field", "op", "value"}.')
        spec = condition_spec(condition.get("field"))
        if spec is None:
            _fail(index, f"unknown field '{condition.get('field')}'.")
        ops, allowed, kind = spec
        op = condition.get("op")
        if op not in ops:
            _fail(index, f"'{condition['field']}' supports {', '.join(ops)}.")
        if op in ("is_set", "is_unset"):
            continue
        value = condition.get("value")
        custom_field = custom_field_named(condition["field"])
        if custom_field is not None and op in ("equals", "not_equals"):
            _check_field_value(index, custom_field, value)
        values = value if op in ("in", "not_in") else [value]
        if op in ("in", "not_in") and (not isinstance(value, list) or not value):
            _fail(index, f"'{op}' takes a non-empty list.")
        for item in values:
            if kind == "bool":
                _check_reference(index, "bool", item)
            elif kind in ("user", "team"):
                _check_reference(index, kind, item)
            elif not isinstance(item, str) or not item:
                _fail(index, "expected a non-empty string.")
            elif allowed is not None and item not in allowed:
                _fail(index, f"'{item}' is not one of {', '.join(allowed)}.")


def validate_actions(actions: Any) -> None:
    if not isinstance(actions, list) or not actions:
        raise ValidationError("Actions are a non-empty JSON list.")
    for index, action in enumerate(actions):
        if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
            _fail(index, f"the type is one of {', '.join(ACTION_TYPES)}.")
        required, optional = ACTION_TYPES[action["type"]]
        unknown = set(action) - {"type", *required, *optional}
        if unknown:
            _fail(index, f"unknown parameter {', '.join(sorted(unknown))}.")
        for name, kind in required.items():
            if name not in action:
                _fail(index, f"'{action['type']}' needs '{name}'.")
            _check_reference(index, kind, action[name])
        for name, kind in optional.items():
            if name in action:
                _check_reference(index, kind, action[name])
        if action["type"] == "escalate" and not (action.get("team") or action.get("user")):
            _fail(index, "escalate needs a 'team' or a 'user' (a Manager).")
        if action["type"] == "set_field":
            field = custom_field_named(f"{TICKET_FIELD_PREFIX}{action['field']}")
            _check_field_value(index, field, action["value"])


# Matching --------------------------------------------------------------------------------------


@dataclass
class TicketFacts:
    """What conditions look at; the slow facts (VIP status) are fetched only when asked."""

    ticket: Ticket
    vip_lookup: Callable[[Ticket], tuple[bool, str]]
    business_hours_check: Callable[[], bool]

    @cached_property
    def vip(self) -> tuple[bool, str]:
        return self.vip_lookup(self.ticket)

    def value(self, name: str) -> Any:
        ticket = self.ticket
        if name in ("channel", "status", "priority", "subject"):
            return getattr(ticket, name)
        if name == "assignee":
            return ticket.assignee.username if ticket.assignee_id else None
        if name == "team":
            return ticket.team.slug if ticket.team_id else None
        if name == "body":
            last = (
                ticket.messages.filter(direction=MessageDirection.INBOUND)
                .order_by("-created_at", "-pk")
                .values_list("body", flat=True)
                .first()
            )
            return last or ""
        if name == "customer_identity":
            return "\n".join(ticket.customer.identities.values_list("value", flat=True))
        if name == "customer_is_vip":
            return self.vip[0]
        if name == "customer_vip_tier":
            return self.vip[1]
        if name == "in_business_hours":
            return self.business_hours_check()
        if name == "tags":
            return list(ticket.tags.values_list("name", flat=True))
        if name.startswith(TICKET_FIELD_PREFIX):
            return (ticket.custom_fields or {}).get(name.removeprefix(TICKET_FIELD_PREFIX), "")
        if name.startswith(CUSTOMER_FIELD_PREFIX):
            key = name.removeprefix(CUSTOMER_FIELD_PREFIX)
            return (ticket.customer.custom_fields or {}).get(key, "")
        raise KeyError(name)


def condition_holds(condition: dict, facts: TicketFacts) -> bool:
    op, expected = condition["op"], condition.get("value")
    actual = facts.value(condition["field"])
    if op == "is_set":
        return bool(actual)
    if op == "is_unset":
        return not actual
    is_text = condition["field"] in ("subject", "body", "customer_identity")
    if isinstance(actual, str) and (is_text or is_custom_field(condition["field"])):
        actual, expected = actual.casefold(), str(expected).casefold()
    elif condition["field"] == "tags":
        expected = str(expected).strip().lstrip("#").casefold()
    elif condition["field"] == "customer_vip_tier":
        actual = (actual or "").casefold()
        expected = (
            [str(v).casefold() for v in expected]
            if isinstance(expected, list)
            else str(expected).casefold()
        )
    if op == "equals":
        return actual == expected
    if op == "not_equals":
        return actual != expected
    if op == "in":
        return actual in expected
    if op == "not_in":
        return actual not in expected
    if op == "contains":
        return expected in actual
    if op == "not_contains":
        return expected not in actual
    raise ValueError(f"Unknown op {op}")


def conditions_hold(conditions: list[dict], facts: TicketFacts) -> bool:
    return all(condition_holds(c, facts) for c in conditions)


def render_message(template: str, ticket: Ticket) -> str:
    """Fill only the known tokens (no format engine: an admin's text cannot reach attributes)."""
    values = {
        "{reference}": ticket.reference or "",
        "{subject}": ticket.subject,
        "{url}": f"/tickets/{ticket.reference}/",
    }
    for token, value in values.items():
        template = template.replace(token, value)
    return template


def describe_action(action: dict, ticket: Ticket) -> str:
    """What an action would do to `ticket`, in words (the rule test on the staff pages)."""
    kind = action["type"]
    if kind == "assign_agent":
        return f"Assign to {action['user']}"
    if kind == "assign_team":
        how = "round-robin to an online agent with room" if action.get("round_robin", True) else ""
        return f"Assign to team {action['team']}" + (f" ({how})" if how else " (unassigned)")
    if kind == "set_priority":
        return f"Set priority to {action['priority']}"
    if kind == "set_status":
        return f"Set status to {action['status']}"
    if kind == "add_note":
        return f"Add internal note: {render_message(action['body'], ticket)}"
    if kind == "send_saved_reply":
        return f"Send saved reply “{action['saved_reply']}” to the customer"
    if kind == "notify_channel":
        return f"Post in #{action['channel']}"
    if kind == "escalate":
        target = action.get("team") or action.get("user")
        return f"Escalate to {target}: {render_message(action['reason'], ticket)}"
    if kind == "add_tags":
        return f"Add tags {', '.join(action['tags'])}"
    return f"Unknown action {kind}"
