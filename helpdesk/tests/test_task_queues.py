"""Queues by urgency: every task declares one, and `runserver_embedded` runs a worker per queue,
so a long bulk job never delays an inbound message. The timing goal (p95 ≤ 2 s under a real
catalog re-embed) is measured in bench/ (`python -m bench --only queues`); this checks the
behaviour: messages become tickets while the bulk job is still running."""

import importlib
import os
import sys
import time

import pytest
from django.apps import apps
from django_tasks.base import Task, TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accounts.models import Role
from accounts.tests.factories import UserFactory
from core import queues
from core.tests import sample_tasks
from helpdesk.management.commands.runserver_embedded import start_queue_workers
from integrations import tasks as integration_tasks
from integrations import webhooks
from integrations.tests import channels
from knowledge import tasks as knowledge_tasks
from printshop import tasks as printshop_tasks


def project_tasks() -> list[Task]:
    found = []
    for config in apps.get_app_configs():
        for module_name in ("tasks", "webhooks"):
            try:
                module = importlib.import_module(f"{config.name}.{module_name}")
            except ModuleNotFoundError:
                continue
            found += [value for value in vars(module).values() if isinstance(value, Task)]
    return found


def test_every_task_declares_a_configured_queue(settings):
    declared = project_tasks()
    assert len(declared) >= 12
    assert settings.TASKS["default"]["QUEUES"] == queues.QUEUES
    assert {task.queue_name for task in declared} == set(queues.QUEUES)


def test_customer_facing_work_is_realtime_and_long_jobs_bulk():
    realtime = [
        webhooks.process_webhook_event,
        integration_tasks.deliver_ticket_message,
        printshop_tasks.write_back_proof_decision_task,
    ]
    bulk = [
        knowledge_tasks.embed_products_task,
        knowledge_tasks.sync_catalog_task,
        integration_tasks.sync_provider_task,
    ]
    assert {task.queue_name for task in realtime} == {queues.REALTIME}
    assert {task.queue_name for task in bulk} == {queues.BULK}


@pytest.fixture
def workers():
    started = start_queue_workers(interval=0.05)
    yield started
    sample_tasks.release_bulk.set()
    for worker, _ in started:
        worker.running = False
    for _, thread in started:
        thread.join(timeout=5)
    sample_tasks.release_bulk.clear()
    sample_tasks.bulk_started.clear()


def wait_for(predicate, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_inbound_sms_become_tickets_while_a_bulk_job_holds_its_worker(
    client, settings, database_tasks, workers
):
    settings.TWILIO_AUTH_TOKEN = channels.TWILIO_TOKEN
    bulk = sample_tasks.occupy_bulk_worker.enqueue(seconds=60)
    assert sample_tasks.bulk_started.wait(timeout=10)
    senders = [f"+1555200000{n}" for n in range(3)]
    for n, sender in enumerate(senders):
        params = channels.twilio_sms(sid=f"SMq{n}", sender=sender, body=f"Order {n}?")
        assert channels.twilio_post(client, "/api/webhooks/twilio", params).status_code == 200
    client.force_login(UserFactory(role=Role.AGENT))

    def listed() -> int:
        return len(client.get("/api/tickets/", {"view": "all"}).json()["results"])

    # Generous: the realtime worker polls every 0.05 s; only a blocked queue would take this long.
    assert wait_for(lambda: listed() == len(senders), timeout=20)
    bulk.refresh()
    assert bulk.status == TaskResultStatus.RUNNING
    assert not sample_tasks.release_bulk.is_set()
    queues_used = set(DBTaskResult.objects.values_list("queue_name", flat=True))
    assert {"realtime", "bulk"} <= queues_used
    if sys.platform == "linux":  # the bulk thread yields the CPU to the others
        niceness = {
            thread.name: os.getpriority(os.PRIO_PROCESS, thread.native_id) for _, thread in workers
        }
        # 10 nicer than the server (which may itself run niced; 19 is the floor).
        assert niceness["task-worker-bulk"] == min(niceness["task-worker-realtime"] + 10, 19)
