"""A task the worker-heartbeat tests run (a worker imports it by path, so it lives in a module)."""

from django_tasks import task

from core import queues
from helpdesk.models import WorkerHeartbeat


@task(queue_name=queues.REALTIME)
def live_workers() -> list[str]:
    """The workers with a heartbeat row while this task runs."""
    return sorted(WorkerHeartbeat.objects.values_list("worker_id", flat=True))
