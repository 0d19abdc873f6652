"""Enqueueing with the caller's transaction, the retry rule."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core import queues
from core.tasks import Backoff, enqueue_after, enqueue_on_commit, retry_later
from core.tests import sample_tasks


@pytest.mark.django_db
def test_database_backend_writes_the_task_row_inside_the_transaction(
    database_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        enqueue_on_commit(sample_tasks.echo, value="kept")
        row = DBTaskResult.objects.get()
    assert callbacks == []
    assert (row.queue_name, row.args_kwargs["kwargs"]) == (queues.REALTIME, {"value": "kept"})


COLUMNS = [f.attname for f in DBTaskResult._meta.concrete_fields if f.attname != "id"]


@pytest.mark.django_db
def test_the_task_row_is_the_one_the_backend_stores_and_a_worker_runs(database_tasks):
    with transaction.atomic():
        enqueue_on_commit(sample_tasks.echo, value="same")
    inserted = DBTaskResult.objects.get()
    enqueued = DBTaskResult.objects.get(pk=sample_tasks.echo.enqueue(value="same").id)
    skip = {"enqueued_at"}
    assert {c: getattr(inserted, c) for c in COLUMNS if c not in skip} == {
        c: getattr(enqueued, c) for c in COLUMNS if c not in skip
    }
    assert inserted.enqueued_at <= enqueued.enqueued_at
    assert list(DBTaskResult.objects.ready().order_by("enqueued_at")) == [inserted, enqueued]
    claimed = DBTaskResult.objects.get(pk=inserted.pk)
    claimed.claim("w1")
    claimed.set_successful(
        claimed.task.call(*claimed.task_result.args, **claimed.task_result.kwargs)
    )
    assert DBTaskResult.objects.get(pk=inserted.pk).task_result.return_value == "same"


@pytest.mark.django_db
def test_a_rolled_back_transaction_leaves_no_task(database_tasks):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(sample_tasks.echo, value="lost")
        raise RuntimeError("the caller failed")
    assert not DBTaskResult.objects.exists()


@pytest.mark.django_db
def test_other_backends_enqueue_on_commit(django_capture_on_commit_callbacks):
    """The immediate backend runs a task at enqueue: it must not run inside the transaction."""
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        enqueue_on_commit(sample_tasks.echo, value="later")
    assert len(callbacks) == 1
    assert callbacks[0].func == sample_tasks.echo.enqueue


@pytest.mark.django_db
def test_enqueue_after_defers_with_the_database_backend(database_tasks):
    enqueue_after(sample_tasks.echo, delay=timedelta(minutes=2), value="x")
    row = DBTaskResult.objects.get()
    assert timedelta(seconds=110) < row.run_after - timezone.now() <= timedelta(minutes=2)
    assert row.queue_name == queues.REALTIME


def test_retry_later_runs_at_once_on_the_immediate_backend():
    assert retry_later(sample_tasks.occupy_bulk_worker, retry_in=None, seconds=0) is False
    sample_tasks.release_bulk.set()
    try:
        assert retry_later(sample_tasks.occupy_bulk_worker, retry_in=timedelta(hours=1), seconds=1)
    finally:
        sample_tasks.release_bulk.clear()
        sample_tasks.bulk_started.clear()


def test_backoff_doubles_from_the_first_delay_and_gives_up_at_the_last_attempt():
    backoff = Backoff(attempts=4, first_delay=timedelta(seconds=30))
    assert [backoff.retry_in(n) for n in (1, 2, 3, 4)] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=120),
        None,
    ]
    assert backoff.retry_in(1, is_retryable=False) is None


def test_backoff_steps_repeat_the_last_one():
    backoff = Backoff(attempts=9, steps=(timedelta(seconds=30), timedelta(minutes=2)))
    assert [backoff.delay(n) for n in (1, 2, 3, 7)] == [
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=2),
        timedelta(minutes=2),
    ]
