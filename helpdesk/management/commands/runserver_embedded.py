"""Serve the embedded default: daphne (HTTP + WebSocket) with one task worker thread per queue.

The in-memory channel layer reaches only sockets of its own process (DESIGN.md "Runtime"), so
the workers that publish live events must live inside the daphne process. One worker per queue
(core/queues.py), like `db_worker --queue-name` per queue in production: a catalog re-embed on
`bulk` never delays an inbound message on `realtime`.
"""

import logging
import os
import sys
import threading

from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from django.conf import settings
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from core import queues
from helpdesk.asgi import application
from helpdesk.task_workers import Heartbeat

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run daphne and a background task worker per queue in one process (development/demo)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--worker-interval", type=float, default=0.5)

    def handle(self, *args, host: str, port: int, worker_interval: float, **options):
        use_listening_address(host=host, port=port)
        workers = start_queue_workers(interval=worker_interval)
        # A task the previous run was killed in the middle of goes back to its queue.
        heartbeats = [
            Heartbeat(worker_id=worker.worker_id, queues=",".join(worker.queue_names))
            for worker, _ in workers
        ]
        for heartbeat in heartbeats:
            heartbeat.start()
        self.stdout.write(self.style.SUCCESS(f"Printdesk is running on http://{host}:{port}/"))
        self.stdout.write(
            f"Task workers running in this process ({', '.join(queues.QUEUES)}). "
            "Press Ctrl-C to stop."
        )
        try:
            Server(
                application=ASGIStaticFilesHandler(application),
                endpoints=build_endpoint_description_strings(host=host, port=port),
                signal_handlers=True,
            ).run()
        finally:
            for worker, _ in workers:
                worker.running = False
            for heartbeat in heartbeats:
                heartbeat.stop()


# A server bound to every interface is reached on loopback from this machine.
WILDCARD_HOSTS = {"0.0.0.0", "::", ""}  # noqa: S104 (compared, not bound)


def use_listening_address(*, host: str, port: int) -> None:
    """Without an explicit PUBLIC_BASE_URL, links sent to customers (proofs, CSAT, files) and the
    trusted origins name the address this server listens on, not the settings' default port."""
    if "PUBLIC_BASE_URL" in os.environ:
        return
    public_host = "127.0.0.1" if host in WILDCARD_HOSTS else host
    if ":" in public_host:
        public_host = f"[{public_host}]"
    base_url = f"http://{public_host}:{port}"
    settings.PUBLIC_BASE_URL = base_url
    if "DJANGO_CSRF_TRUSTED_ORIGINS" not in os.environ:
        settings.CSRF_TRUSTED_ORIGINS = [base_url]
    policy = settings.CONTENT_SECURITY_POLICY
    directives = policy["DIRECTIVES"]
    settings.CONTENT_SECURITY_POLICY = {
        **policy,
        "DIRECTIVES": {
            **directives,
            "connect-src": [*directives["connect-src"][:1], base_url.replace("http://", "ws://")],
        },
    }


# The bulk thread runs at a lower CPU priority: an embedding batch saturates every core, and the
# realtime worker and the web server must still get the CPU at once.
BULK_NICENESS = 10


def run_worker(worker: Worker, niceness: int) -> None:
    if niceness and sys.platform == "linux":
        # On Linux a thread has its own nice value (and threads it starts inherit it); relative
        # to the server's own, which may already run niced (19 is the floor).
        thread_id = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, thread_id)
        os.setpriority(os.PRIO_PROCESS, thread_id, min(current + niceness, 19))
    worker.run()


def start_queue_workers(*, interval: float) -> list[tuple[Worker, threading.Thread]]:
    """One daemon thread running a db_worker loop for each queue."""
    suffix = get_random_string(8)
    workers = []
    for queue_name in queues.QUEUES:
        worker = Worker(
            queue_names=[queue_name],
            interval=interval,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"embedded-{queue_name}-{suffix}",
            excluded_queue_names=[],
        )
        niceness = BULK_NICENESS if queue_name == queues.BULK else 0
        thread = threading.Thread(
            target=run_worker, args=(worker, niceness), name=f"task-worker-{queue_name}"
        )
        thread.daemon = True
        thread.start()
        workers.append((worker, thread))
    return workers
