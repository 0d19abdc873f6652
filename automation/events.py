"""The one entry point other apps call: announce a ticket event to automation after commit.

Kept free of heavy imports so `tickets.services` can import it without a cycle. Actions that a
rule performs run inside `rule_origin(...)`; events they cause carry the depth and the rules
already fired, so a rule never re-triggers itself and chains stop at `MAX_DEPTH`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial

from django.db import transaction

MAX_DEPTH = 3


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


def dispatch_event_on_commit(*, event: str, ticket_id: int, message_id: int | None = None) -> None:
    """After commit, enqueue `process_ticket_event`: SLA refresh, rules, outbound webhooks."""
    origin = _origin.get()
    depth = origin.depth + 1 if origin else 0
    skip = sorted(origin.rule_ids) if origin else []
    transaction.on_commit(
        partial(
            _enqueue,
            event=event,
            ticket_id=ticket_id,
            message_id=message_id,
            depth=depth,
            skip_rule_ids=skip,
        ),
        robust=True,
    )


def _enqueue(**kwargs) -> None:
    from automation.tasks import process_ticket_event

    process_ticket_event.enqueue(**kwargs)
