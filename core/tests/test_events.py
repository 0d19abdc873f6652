import contextvars
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from core import events


@dataclass(frozen=True)
class SomethingHappened:
    thing_id: int


@pytest.fixture
def received(monkeypatch):
    monkeypatch.setattr(events, "_subscribers", events.defaultdict(list))
    monkeypatch.setattr(events, "_in_transaction", events.defaultdict(list))
    calls: list[SomethingHappened] = []
    events.subscribe(SomethingHappened, calls.append)
    return calls


@pytest.mark.django_db
def test_delivers_to_subscribers_only_after_commit(received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        events.publish_on_commit(SomethingHappened(1))
        assert received == []
    assert received == [SomethingHappened(1)]


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_delivers_nothing(received):
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish_on_commit(SomethingHappened(2))
        raise RuntimeError("roll back")
    assert received == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_subscriber_does_not_stop_the_others(received):
    def broken(event):
        raise ValueError("boom")

    events.subscribe(SomethingHappened, broken)
    late: list[SomethingHappened] = []
    events.subscribe(SomethingHappened, late.append)
    with transaction.atomic():
        events.publish_on_commit(SomethingHappened(3))
    assert received == [SomethingHappened(3)]
    assert late == [SomethingHappened(3)]


def test_subscribing_twice_registers_once(received):
    events.subscribe(SomethingHappened, received.append)
    assert events.subscribers(SomethingHappened) == [received.append]


@pytest.mark.django_db
def test_capture_events_records_what_was_published(received):
    with events.capture_events() as published:
        events.publish_on_commit(SomethingHappened(4))
    events.publish_on_commit(SomethingHappened(5))
    assert published == [SomethingHappened(4)]


@pytest.mark.django_db(transaction=True)
def test_in_transaction_handlers_run_at_publish_and_roll_back_with_it(received):
    def write_a_row(event):
        Group.objects.create(name=f"team {event.thing_id}")

    events.subscribe(SomethingHappened, write_a_row, in_transaction=True)
    with transaction.atomic():
        events.publish_on_commit(SomethingHappened(6))
        assert Group.objects.filter(name="team 6").exists()
        assert received == []
    with pytest.raises(RuntimeError), transaction.atomic():
        events.publish_on_commit(SomethingHappened(7))
        raise RuntimeError("roll back")
    assert not Group.objects.filter(name="team 7").exists()
    assert received == [SomethingHappened(6)]


@pytest.mark.django_db
def test_in_transaction_handlers_run_before_on_commit_ones_are_queued(
    received, django_capture_on_commit_callbacks
):
    order: list[str] = []
    events.subscribe(SomethingHappened, lambda event: order.append("on commit"))
    events.subscribe(
        SomethingHappened,
        lambda event: transaction.on_commit(lambda: order.append("queued by in-transaction")),
        in_transaction=True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        events.publish_on_commit(SomethingHappened(8))
    assert order == ["queued by in-transaction", "on commit"]


@pytest.mark.django_db
def test_on_commit_handlers_see_the_publishers_context(
    received, django_capture_on_commit_callbacks
):
    current = contextvars.ContextVar("current", default="outside")
    seen: list[str] = []
    events.subscribe(SomethingHappened, lambda event: seen.append(current.get()))
    with django_capture_on_commit_callbacks(execute=True):
        token = current.set("publisher")
        events.publish_on_commit(SomethingHappened(9))
        current.reset(token)
    assert seen == ["publisher"]
