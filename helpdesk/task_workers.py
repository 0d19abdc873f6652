"""Task workers' liveness, and the tasks a dead worker had claimed.

django-tasks-db marks a task RUNNING when a worker claims it, and only that worker ever changes
it again. A worker that dies while running one (SIGKILL, the OOM killer, a host lost, a
container stopped without its grace period) leaves the task RUNNING forever: an inbound message
whose processing it held is never stored, and nothing retries it. django-tasks-db has no lease
or heartbeat for this (0.13).

So every worker keeps a heartbeat row (`WorkerHeartbeat`) fresh every WORKER_HEARTBEAT_SECONDS
from a thread of its own, and on each beat puts back to READY the RUNNING tasks whose worker's
beat is older than WORKER_HEARTBEAT_TIMEOUT_SECONDS (or missing). Any live worker, on any host,
recovers them; the task runs again from the start, which every task here allows: each one
checks its state first (a processed webhook returns at once, a message being sent is left to
the outbound sweep) and its writes are in transactions the dead worker never committed.

A worker that is alive keeps beating while it runs a long task (the beat is a thread), so a long
bulk job is never taken from it. docs/decisions.md, "Two hosts on one machine".
"""

import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from helpdesk.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

# Heartbeats of workers gone this long are deleted (a stopped worker deletes its own).
FORGET_AFTER = timedelta(days=1)


def beat(*, worker_id: str, queues: str, started_at: datetime, now: datetime | None = None) -> None:
    """Record that `worker_id` is alive now."""
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "queues": queues[:255],
            "started_at": started_at,
            "beat_at": now or timezone.now(),
        },
    )


def forget(*, worker_id: str) -> None:
    """A worker that stops cleanly says so (its running task, if any, has finished)."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def requeue_orphaned_tasks(*, now: datetime | None = None) -> list[str]:
    """Put the RUNNING tasks whose worker is gone back in their queue; returns their ids.

    Gone: no heartbeat newer than the timeout, or the heartbeat is of a process that started
    after the task was claimed (a worker restarted under the same `--worker-id`). A task claimed
    less than the timeout ago is left alone whatever its worker's row says, so a worker that has
    just started (or one from before heartbeats existed, during an upgrade) is given that long.
    The UPDATE repeats the conditions, so a task another sweep requeued and a worker claimed
    again is not touched.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.WORKER_HEARTBEAT_TIMEOUT_SECONDS)
    candidates = list(
        DBTaskResult.objects.filter(
            status=TaskResultStatus.RUNNING, started_at__lt=cutoff
        ).values_list("id", "worker_ids", "task_path", "started_at")
    )
    if not candidates:
        return []
    alive_since = dict(
        WorkerHeartbeat.objects.filter(beat_at__gte=cutoff).values_list("worker_id", "started_at")
    )
    orphans = []
    for task_id, workers, task_path, claimed_at in candidates:
        worker_id = workers[-1] if workers else ""
        if worker_id not in alive_since or alive_since[worker_id] > claimed_at:
            orphans.append((task_id, worker_id, task_path))
    if not orphans:
        return []
    DBTaskResult.objects.filter(
        pk__in=[task_id for task_id, _, _ in orphans],
        status=TaskResultStatus.RUNNING,
        started_at__lt=cutoff,
    ).update(status=TaskResultStatus.READY, started_at=None)
    for task_id, worker_id, task_path in orphans:
        logger.warning(
            "task.orphan_requeued task=%s path=%s dead_worker=%s", task_id, task_path, worker_id
        )
    return [str(task_id) for task_id, _, _ in orphans]


def heartbeat_once(*, worker_id: str, queues: str, started_at: datetime) -> list[str]:
    """One beat: mark `worker_id` alive, requeue what dead workers held, prune old rows."""
    now = timezone.now()
    beat(worker_id=worker_id, queues=queues, started_at=started_at, now=now)
    WorkerHeartbeat.objects.filter(beat_at__lt=now - FORGET_AFTER).delete()
    return requeue_orphaned_tasks(now=now)


class Heartbeat:
    """The heartbeat thread of one worker: `start()` when it starts, `stop()` when it stops."""

    def __init__(self, *, worker_id: str, queues: str) -> None:
        self.worker_id = worker_id
        self.queues = queues
        self.started_at = timezone.now()
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat-{worker_id}", daemon=True
        )

    def start(self) -> None:
        # The first beat is written before any task is claimed, so no sweep can take the
        # worker's first task from it.
        beat(worker_id=self.worker_id, queues=self.queues, started_at=self.started_at)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=settings.WORKER_HEARTBEAT_SECONDS + 5)
        try:
            forget(worker_id=self.worker_id)
        except DatabaseError:
            logger.exception("task.heartbeat_forget_failed worker=%s", self.worker_id)

    def _run(self) -> None:
        try:
            while not self._stopping.wait(settings.WORKER_HEARTBEAT_SECONDS):
                close_old_connections()
                try:
                    heartbeat_once(
                        worker_id=self.worker_id, queues=self.queues, started_at=self.started_at
                    )
                except DatabaseError:
                    # The database is away: the worker cannot finish tasks either. Try again.
                    logger.exception("task.heartbeat_failed worker=%s", self.worker_id)
        finally:
            connection.close()
