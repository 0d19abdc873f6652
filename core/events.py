"""The domain-event bus: apps announce what happened; other apps react without being imported.

Each app declares the events it emits as frozen dataclasses in its own `events.py` and its
services publish them with `publish_on_commit(...)`, so nothing is announced for a transaction
that rolls back. Reacting apps call `subscribe(EventType, handler)` in `AppConfig.ready()`; the
emitting app never imports them. Each handler runs in its own robust on-commit callback: one
failing subscriber is logged and does not stop the others or undo the committed change.
Handlers get the event only (ids, not model instances) and enqueue tasks for slow work.

A few reactions are rows that must commit or roll back with the change itself (the analytics
trail, in-app notifications, the automation dispatch that reads the rule-chain context): those
subscribe with `in_transaction=True` and run at publish time, inside the publisher's
transaction, before any on-commit handler is queued. They only write rows (and queue their own
on-commit work); an exception there fails the publishing service, as the inline call did.

On-commit handlers run in a copy of the publisher's context (`contextvars`), so context such as
the automation rule origin is what it was when the event was published.
"""

import contextvars
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

Handler = Callable[[Any], None]

_subscribers: dict[type, list[Handler]] = defaultdict(list)
_in_transaction: dict[type, list[Handler]] = defaultdict(list)
_captures: list[list[Any]] = []


def subscribe(event_type: type, handler: Handler, *, in_transaction: bool = False) -> None:
    """Register `handler` for `event_type`; registering the same handler twice is a no-op
    (`ready()` can run more than once in tests)."""
    registry = _in_transaction if in_transaction else _subscribers
    if handler not in registry[event_type]:
        registry[event_type].append(handler)


def subscribers(event_type: type, *, in_transaction: bool = False) -> list[Handler]:
    registry = _in_transaction if in_transaction else _subscribers
    return list(registry.get(event_type, ()))


def publish_on_commit(event: Any, *, using: str | None = None) -> None:
    """Run the in-transaction handlers of `event` now, and deliver it to its other subscribers
    once the current transaction commits (at once when there is none)."""
    for captured in _captures:
        captured.append(event)
    for handler in subscribers(type(event), in_transaction=True):
        handler(event)
    context = contextvars.copy_context()
    for handler in subscribers(type(event)):
        transaction.on_commit(_delivery(handler, event, context), using=using, robust=True)


def _delivery(handler: Handler, event: Any, context: contextvars.Context) -> Callable[[], None]:
    def deliver() -> None:
        context.copy().run(handler, event)

    # Django names the callback in the log line when a robust on-commit callback fails.
    deliver.__qualname__ = (
        f"{getattr(handler, '__qualname__', repr(handler))}({type(event).__name__})"
    )
    return deliver


@contextmanager
def capture_events() -> Iterator[list[Any]]:
    """Record every event published inside the block (they are still delivered), like Zulip's
    `capture_send_event_calls`: `with capture_events() as published: ...`."""
    captured: list[Any] = []
    _captures.append(captured)
    try:
        yield captured
    finally:
        _captures.remove(captured)
