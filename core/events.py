"""The domain-event bus: apps announce what happened; other apps react without being imported.

Each app declares the events it emits as frozen dataclasses in its own `events.py` and its
services publish them with `publish_on_commit(...)`, so nothing is announced for a transaction
that rolls back. Reacting apps call `subscribe(EventType, handler)` in `AppConfig.ready()`; the
emitting app never imports them. Each handler runs in its own robust on-commit callback: one
failing subscriber is logged and does not stop the others or undo the committed change.
Handlers get the event only (ids, not model instances) and enqueue tasks for slow work.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

Handler = Callable[[Any], None]

_subscribers: dict[type, list[Handler]] = defaultdict(list)
_captures: list[list[Any]] = []


def subscribe(event_type: type, handler: Handler) -> None:
    """Register `handler` for `event_type`; registering the same handler twice is a no-op
    (`ready()` can run more than once in tests)."""
    if handler not in _subscribers[event_type]:
        _subscribers[event_type].append(handler)


def subscribers(event_type: type) -> list[Handler]:
    return list(_subscribers.get(event_type, ()))


def publish_on_commit(event: Any, *, using: str | None = None) -> None:
    """Deliver `event` to its subscribers once the current transaction commits (at once when
    there is none)."""
    for captured in _captures:
        captured.append(event)
    for handler in subscribers(type(event)):
        transaction.on_commit(_delivery(handler, event), using=using, robust=True)


def _delivery(handler: Handler, event: Any) -> Callable[[], None]:
    def deliver() -> None:
        handler(event)

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
