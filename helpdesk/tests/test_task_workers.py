"""Tasks of a worker that died while running them go back to their queue (issue 26, two hosts).

django-tasks-db leaves a claimed task RUNNING forever when its worker is killed; each worker's
heartbeat (helpdesk/task_workers.py) lets any live worker requeue it. The two-host benchmark
(`python -m bench --only two-hosts`) shows it across hosts with a real SIGKILL.
"""

from datetime import timedelta

import pytest
from django.core.management import call_command, get_commands
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from core.tests import sample_tasks
from helpdesk import task_workers
from helpdesk.models import WorkerHeartbeat
from helpdesk.tests import worker_tasks


def claimed(task_id: str, *, by: str, ago: timedelta) -> DBTaskResult:
    """The task row as a worker leaves it when it claims the task `ago`."""
    row = DBTaskResult.objects.get(pk=task_id)
    row.claim(by)
    DBTaskResult.objects.filter(pk=task_id).update(started_at=timezone.now() - ago)
    return row


def alive(
    worker_id: str, *, beat_ago: timedelta = timedelta(0), started_ago: timedelta = timedelta(0)
) -> None:
    """A heartbeat row: the worker's process started `started_ago`, last beat `beat_ago`."""
    now = timezone.now()
    task_workers.beat(
        worker_id=worker_id, queues="realtime", started_at=now - started_ago, now=now - beat_ago
    )


def test_db_worker_is_the_command_with_a_heartbeat():
    assert get_commands()["db_worker"] == "helpdesk"


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_worker_died_goes_back_to_its_queue_and_another_worker_runs_it(
    database_tasks, settings
):
    settings.WORKER_HEARTBEAT_TIMEOUT_SECONDS = 60
    orphan = sample_tasks.echo.enqueue(value="orphan").id
    long_running = sample_tasks.echo.enqueue(value="long").id
    just_claimed = sample_tasks.echo.enqueue(value="new").id
    claimed(orphan, by="dead-worker", ago=timedelta(minutes=2))
    alive("dead-worker", beat_ago=timedelta(minutes=2))  # its last beat, before it was killed
    claimed(long_running, by="busy-worker", ago=timedelta(minutes=10))
    alive("busy-worker", started_ago=timedelta(hours=1))  # beating while it runs a long task
    claimed(just_claimed, by="new-worker", ago=timedelta(seconds=5))  # no beat yet

    assert task_workers.requeue_orphaned_tasks() == [str(orphan)]

    Worker(
        queue_names=["realtime"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="survivor",
        excluded_queue_names=[],
    ).run()
    rerun = DBTaskResult.objects.get(pk=orphan)
    assert rerun.status == TaskResultStatus.SUCCESSFUL
    assert rerun.return_value == "orphan"
    assert rerun.worker_ids == ["dead-worker", "survivor"]
    assert set(
        DBTaskResult.objects.filter(pk__in=[long_running, just_claimed]).values_list(
            "status", flat=True
        )
    ) == {TaskResultStatus.RUNNING}


@pytest.mark.django_db
def test_a_worker_restarted_under_the_same_id_does_not_keep_its_predecessors_task(
    database_tasks,
):
    task_id = sample_tasks.echo.enqueue(value="x").id
    claimed(task_id, by="host-b-realtime", ago=timedelta(minutes=2))
    alive("host-b-realtime", started_ago=timedelta(seconds=30))  # the restarted process
    assert task_workers.requeue_orphaned_tasks() == [str(task_id)]


@pytest.mark.django_db
def test_the_sweep_costs_three_queries_however_many_orphans(
    database_tasks, django_assert_num_queries
):
    for n in range(5):
        task_id = sample_tasks.echo.enqueue(value=str(n)).id
        claimed(task_id, by=f"dead-{n}", ago=timedelta(hours=1))
    with django_assert_num_queries(3):
        requeued = task_workers.requeue_orphaned_tasks()
    assert len(requeued) == 5
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).exists()
    with django_assert_num_queries(1):
        assert task_workers.requeue_orphaned_tasks() == []


@pytest.mark.django_db
def test_a_beat_refreshes_the_worker_and_forgets_workers_gone_for_a_day():
    alive("gone-long-ago", beat_ago=timedelta(days=2))
    alive("me", beat_ago=timedelta(minutes=5))
    task_workers.heartbeat_once(worker_id="me", queues="realtime", started_at=timezone.now())
    rows = {row.worker_id: row for row in WorkerHeartbeat.objects.all()}
    assert set(rows) == {"me"}
    assert timezone.now() - rows["me"].beat_at < timedelta(seconds=5)


@pytest.mark.django_db(transaction=True)
def test_db_worker_beats_while_it_runs_and_forgets_itself_when_it_stops(database_tasks):
    task_id = worker_tasks.live_workers.enqueue().id
    call_command(
        "db_worker",
        "--batch",
        "--queue-name",
        "realtime",
        "--worker-id",
        "the-worker",
        "--no-startup-delay",
        "--no-reload",
        verbosity=0,
    )
    assert DBTaskResult.objects.get(pk=task_id).return_value == ["the-worker"]
    assert not WorkerHeartbeat.objects.exists()
