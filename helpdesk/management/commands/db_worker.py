"""`manage.py db_worker`: django-tasks-db's worker, with a heartbeat (helpdesk/task_workers.py).

Same options and behaviour as django-tasks-db's command, which this one replaces (the helpdesk
app is listed before django_tasks_db in INSTALLED_APPS); in addition the worker keeps its
heartbeat row fresh and requeues the tasks of workers that died while running one.
"""

from django_tasks_db.management.commands import db_worker

from helpdesk.task_workers import Heartbeat


class Command(db_worker.Command):
    help = db_worker.Command.help + " (with a heartbeat; requeues tasks of dead workers)"

    def handle(self, *args, **options) -> None:
        heartbeat = Heartbeat(worker_id=options["worker_id"], queues=options["queue_name"])
        heartbeat.start()
        try:
            super().handle(*args, **options)
        finally:
            heartbeat.stop()
