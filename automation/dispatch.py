"""Hand a ticket event to automation after commit: SLA refresh, rules, outbound webhooks.

`automation.subscribers` turns the domain events of tickets and analytics into a
`TicketEventKind` here; the SLA checker dispatches its own warnings and breaches. Actions that a
rule performs run inside `rule_origin(...)`; events they cause carry the depth and the rules
already fired, so a rule never re-triggers itself and chains stop at `MAX_DEPTH`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from django.db import transaction

from automation.models import RuleEvent

MAX_DEPTH = 3


class TicketEventKind(StrEnum):
    """What `process_ticket_event` is told happened; rule triggers are the `RuleEvent` ones."""

    TICKET_CREATED = RuleEvent.TICKET_CREATED
    MESSAGE_RECEIVED = RuleEvent.MESSAGE_RECEIVED
    TICKET_UPDATED = RuleEvent.TICKET_UPDATED
    SLA_WARNING = RuleEvent.SLA_WARNING
    SLA_BREACHED = RuleEvent.SLA_BREACHED
    MESSAGE_SENT = "message.sent"
    CSAT_RECEIVED = "csat.received"


@dataclass(frozen=True)
class Origin:
    depth: int
    rule_ids: frozenset[int]


_origin: ContextVar[Origin | None] = ContextVar("automation_rule_origin", default=None)


@contextmanager
def rule_origin(*, depth: int, rule_ids: frozenset[int]) -> Iterator[None]:
    token = _origin.set(Origin(depth=depth, rule_ids=rule_ids))
    try:
        yield
    finally:
        _origin.reset(token)


def dispatch_event_on_commit(
    *,
    event: TicketEventKind,
    ticket_id: int,
    message_id: int | None = None,
    run_rules: bool = True,
) -> None:
    """After commit, enqueue `process_ticket_event`: SLA refresh, rules (unless `run_rules` is
    False: an auto-reply), outbound webhooks."""
    origin = _origin.get()
    depth = origin.depth + 1 if origin else 0
    skip = sorted(origin.rule_ids) if origin else []
    transaction.on_commit(
        partial(
            _enqueue,
            event=str(event),
            ticket_id=ticket_id,
            message_id=message_id,
            depth=depth,
            skip_rule_ids=skip,
            run_rules=run_rules,
        ),
        robust=True,
    )


def _enqueue(**kwargs) -> None:
    # Imported here: the task module imports the services, which import this module.
    from automation.tasks import process_ticket_event

    process_ticket_event.enqueue(**kwargs)
