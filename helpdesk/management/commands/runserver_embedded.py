"""Serve the embedded default: daphne (HTTP + WebSocket) with the task worker as a thread.

The in-memory channel layer reaches only sockets of its own process (DESIGN.md "Runtime"), so
the worker that publishes live events must live inside the daphne process.
"""

import logging
import threading

from daphne.endpoints import build_endpoint_description_strings
from daphne.server import Server
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from helpdesk.asgi import application

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run daphne and the background task worker in one process (development/demo)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--worker-interval", type=float, default=0.5)

    def handle(self, *args, host: str, port: int, worker_interval: float, **options):
        worker = Worker(
            queue_names=["default"],
            interval=worker_interval,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"embedded-{get_random_string(8)}",
            excluded_queue_names=[],
        )
        thread = threading.Thread(target=worker.run, name="task-worker", daemon=True)
        thread.start()
        self.stdout.write(self.style.SUCCESS(f"Printdesk is running on http://{host}:{port}/"))
        self.stdout.write("Task worker running in this process. Press Ctrl-C to stop.")
        try:
            Server(
                application=ASGIStaticFilesHandler(application),
                endpoints=build_endpoint_description_strings(host=host, port=port),
                signal_handlers=True,
            ).run()
        finally:
            worker.running = False
