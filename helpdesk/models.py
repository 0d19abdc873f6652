"""The project shell's one table: which task workers are alive (helpdesk/task_workers.py)."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """A running `db_worker` (or embedded worker thread), refreshed every few seconds."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    queues = models.CharField(max_length=255)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.hostname} (pid {self.pid})"
