"""Tasks the queue tests enqueue (a worker imports them by path, so they live in a module)."""

import threading

from django_tasks import task

from core import queues

# Set by the test: the bulk job holds its worker until then (or until the timeout).
release_bulk = threading.Event()
bulk_started = threading.Event()


@task(queue_name=queues.BULK)
def occupy_bulk_worker(*, seconds: float) -> bool:
    """A long bulk job: keeps the bulk worker busy, like a catalog re-embed."""
    bulk_started.set()
    return release_bulk.wait(timeout=seconds)


@task(queue_name=queues.REALTIME)
def echo(*, value: str) -> str:
    return value
