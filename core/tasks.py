"""Enqueueing with the caller's transaction, deferred re-enqueues and one retry rule for tasks.

Queue names are in `core.queues`; every task declares one (`@task(queue_name=queues.REALTIME)`).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, partial
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models.signals import pre_save
from django.utils import timezone
from django_tasks.base import Task
from django_tasks.utils import normalize_json
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult


def stores_in_database(task: Task, *, using: str | None = None) -> bool:
    """Whether enqueueing `task` inserts its row on the `using` connection (django-tasks-db)."""
    return isinstance(task.get_backend(), DatabaseBackend) and router.db_for_write(
        DBTaskResult
    ) == (using or DEFAULT_DB_ALIAS)


def enqueue_on_commit(task: Task, /, *, using: str | None = None, **kwargs: Any) -> None:
    """Enqueue `task(**kwargs)` so that it exists only if the current transaction commits.

    With the database backend the task row is inserted inside the caller's transaction: both
    commit together (one commit, and no crash window between "stored" and "queued"), a rollback
    removes both, and no worker can see the row before the commit. Any other backend is
    enqueued on commit (the immediate one, used in tests, would otherwise run the task inside
    the caller's transaction). Outside a transaction both amount to enqueueing now.
    """
    if transaction.get_connection(using).in_atomic_block and stores_in_database(task, using=using):
        insert_task_row(task, using=using or DEFAULT_DB_ALIAS, kwargs=kwargs)
    else:
        transaction.on_commit(partial(task.enqueue, **kwargs), using=using)


def enqueue_on_commit_after(
    task: Task, /, *, delay: timedelta, using: str | None = None, **kwargs: Any
) -> None:
    """`enqueue_on_commit` of a task that runs `delay` from now. A backend that cannot defer
    (the immediate one in tests) runs it at once after the commit."""
    if task.get_backend().supports_defer:
        task = task.using(run_after=timezone.now() + delay)
    enqueue_on_commit(task, using=using, **kwargs)


def insert_task_row(task: Task, /, *, using: str, kwargs: dict[str, Any]) -> None:
    """Store the row `DatabaseBackend.enqueue` stores, with one plain INSERT.

    On ingest this row is half of every webhook's writes: the backend's ORM `create()` and the
    `TaskResult` it builds for the `task_enqueued` signal (only django-tasks' debug log listens)
    cost ~1 ms of CPU per message against ~3 ms for the whole ceiling view (bench/README.md).
    The values are the backend's (`_task_to_db_task`), prepared by each field as the ORM would.
    """
    backend = task.get_backend()
    backend.validate_task(task)
    row = DBTaskResult(
        id=DBTaskResult._meta.pk.get_default(),
        args_kwargs=normalize_json({"args": [], "kwargs": kwargs}),
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after,
        backend_name=backend.alias,
    )
    # django-tasks-db's own pre_save handler fills `run_after` (none means "now").
    pre_save.send(sender=DBTaskResult, instance=row, raw=False, using=using, update_fields=None)
    connection = connections[using]
    fields = DBTaskResult._meta.concrete_fields
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_sql(connection.vendor, using),
            [field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields],
        )


@cache
def _insert_sql(vendor: str, using: str) -> str:
    quote = connections[using].ops.quote_name
    fields = DBTaskResult._meta.concrete_fields
    # Names come from the model, quoted; every value is a query parameter.
    return "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(DBTaskResult._meta.db_table),
        ", ".join(quote(field.column) for field in fields),
        ", ".join(["%s"] * len(fields)),
    )


def enqueue_after(task: Task, /, *, delay: timedelta, **kwargs: Any) -> None:
    """Enqueue `task(**kwargs)` to run `delay` from now. A backend that cannot defer (the
    immediate one in tests) runs it at once."""
    if task.get_backend().supports_defer:
        task = task.using(run_after=timezone.now() + delay)
    task.enqueue(**kwargs)


def enqueue_at_on_commit(task: Task, /, *, run_after: datetime, **kwargs: Any) -> None:
    """`enqueue_on_commit`, to run no earlier than `run_after`. A backend that cannot defer (the
    immediate one in tests) runs it on commit, so the task must check that its time has come."""
    if task.get_backend().supports_defer:
        task = task.using(run_after=run_after)
    enqueue_on_commit(task, **kwargs)


@dataclass(frozen=True)
class Backoff:
    """How many attempts a job gets and how long it waits between them.

    The wait after failed attempt n is `first_delay` doubled n-1 times, or `steps[n-1]` when
    explicit steps are given (the last step repeats). Used by tasks that re-enqueue themselves
    (`retry_in`) and by provider clients that retry a call in-process (`delay`).
    """

    attempts: int
    first_delay: timedelta = timedelta(seconds=30)
    steps: tuple[timedelta, ...] = ()

    def delay(self, attempt: int) -> timedelta:
        if self.steps:
            return self.steps[min(attempt, len(self.steps)) - 1]
        return self.first_delay * 2 ** (attempt - 1)

    def retry_in(self, attempt: int, *, is_retryable: bool = True) -> timedelta | None:
        """The wait before trying again after failed attempt `attempt` (1-based), or None when
        the job gives up: the failure is not retryable or that was the last attempt."""
        if not is_retryable or attempt >= self.attempts:
            return None
        return self.delay(attempt)


def retry_later(task: Task, /, *, retry_in: timedelta | None, **kwargs: Any) -> bool:
    """Re-enqueue `task(**kwargs)` after `retry_in`; nothing when it is None (done or gave up).
    Returns whether it was re-enqueued."""
    if retry_in is None:
        return False
    enqueue_after(task, delay=retry_in, **kwargs)
    return True
