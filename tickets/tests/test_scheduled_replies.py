"""Scheduled replies ("Send later"): stored with their time, editable until they go, sent at
their time through `reply_to_ticket` (its policy included), cancelled, swept after a restart."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django_tasks_db.models import DBTaskResult

from core.errors import ApplicationError, Conflict, PermissionDenied
from core.events import capture_events
from integrations.outbound_sweep import sweep_outbound
from tickets import consent, events, merges, scheduled, services
from tickets.erasure import erase_customer_records
from tickets.models import (
    DeliveryStatus,
    OptOutReason,
    ScheduledReply,
    ScheduledReplyState,
    TicketEvent,
    TicketMessage,
    TicketStatus,
)
from tickets.tests.factories import CustomerIdentityFactory, TicketFactory

pytestmark = pytest.mark.django_db

NOW = datetime.fromisoformat("2026-03-02T10:00:00+00:00")  # a Monday


@pytest.fixture
def ticket():
    ticket = TicketFactory(status=TicketStatus.OPEN)
    CustomerIdentityFactory(customer=ticket.customer, value="ana@example.com")
    return ticket


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _schedule(ticket, author, *, at=NOW + timedelta(hours=2), **kwargs) -> ScheduledReply:
    return scheduled.schedule_reply(
        ticket=ticket, author=author, body="Your proof is ready.", send_at=at, **kwargs
    )


def _outbound(ticket):
    return list(TicketMessage.objects.filter(ticket=ticket, direction="out"))


def test_scheduling_stores_the_reply_without_sending_and_enqueues_it_for_its_time(
    ticket, agent, frozen, database_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), capture_events() as published:
        reply = _schedule(ticket, agent, set_status=TicketStatus.PENDING)

    assert reply.state == ScheduledReplyState.SCHEDULED and reply.channel == "email"
    assert _outbound(ticket) == [] and published == []
    [row] = DBTaskResult.objects.filter(task_path__endswith="send_scheduled_reply_task")
    assert row.run_after == NOW + timedelta(hours=2) and row.queue_name == "realtime"
    assert row.args_kwargs["kwargs"] == {"scheduled_reply_id": reply.pk}
    history = TicketEvent.objects.get(ticket=ticket, kind="scheduled_reply")
    assert (history.name, history.actor) == ("scheduled", agent)


def test_the_task_sends_it_at_its_time_through_the_reply_path(ticket, agent, frozen):
    reply = _schedule(ticket, agent, set_status=TicketStatus.PENDING)
    assert scheduled.send_scheduled_reply_task.call(scheduled_reply_id=reply.pk) == "not due"

    frozen.move_to(NOW + timedelta(hours=2))
    with capture_events() as published:
        assert scheduled.send_scheduled_reply_task.call(scheduled_reply_id=reply.pk) == "sent"

    reply.refresh_from_db()
    [message] = _outbound(ticket)
    assert reply.message == message and reply.done_by is None
    assert (message.author, message.body, message.channel) == (agent, reply.body, "email")
    assert message.created_at == NOW + timedelta(hours=2)
    queued = [e for e in published if isinstance(e, events.MessageQueued)]
    assert [e.message_id for e in queued] == [message.pk]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING
    assert ticket.first_response_at == NOW + timedelta(hours=2)
    # A second run (a duplicate task, the sweep) sends nothing more.
    assert scheduled.send_scheduled_reply_task.call(scheduled_reply_id=reply.pk) == "not due"
    assert len(_outbound(ticket)) == 1


def test_a_cancelled_reply_never_goes(ticket, agent, frozen):
    reply = _schedule(ticket, agent)
    scheduled.cancel_scheduled_reply(ticket=ticket, scheduled_reply_id=reply.pk, actor=agent)
    with pytest.raises(Conflict):
        scheduled.cancel_scheduled_reply(ticket=ticket, scheduled_reply_id=reply.pk, actor=agent)

    frozen.move_to(NOW + timedelta(hours=3))
    assert scheduled.send_scheduled_reply_task.call(scheduled_reply_id=reply.pk) == "not due"
    assert sweep_outbound().scheduled_sent == []
    assert _outbound(ticket) == []
    reply.refresh_from_db()
    assert (reply.state, reply.done_by) == (ScheduledReplyState.CANCELLED, agent)


def test_the_author_edits_text_and_time_until_it_goes(ticket, agent, frozen):
    reply = _schedule(ticket, agent)
    later = NOW + timedelta(hours=5)
    scheduled.edit_scheduled_reply(
        ticket=ticket, scheduled_reply_id=reply.pk, actor=agent, body="New text", send_at=later
    )

    frozen.move_to(NOW + timedelta(hours=2))  # the first time: no longer due
    assert scheduled.send_scheduled_reply_task.call(scheduled_reply_id=reply.pk) == "not due"
    frozen.move_to(later)
    assert scheduled.send_scheduled_reply_task.call(scheduled_reply_id=reply.pk) == "sent"
    assert [m.body for m in _outbound(ticket)] == ["New text"]
    with pytest.raises(Conflict):
        scheduled.edit_scheduled_reply(
            ticket=ticket, scheduled_reply_id=reply.pk, actor=agent, body="Too late"
        )


def test_edit_and_schedule_validate_the_time(ticket, agent, frozen):
    for send_at in (NOW - timedelta(minutes=1), NOW + timedelta(days=31)):
        with pytest.raises(ApplicationError) as excinfo:
            _schedule(ticket, agent, at=send_at)
        assert list(excinfo.value.fields) == ["send_at"]
    reply = _schedule(ticket, agent)
    with pytest.raises(ApplicationError) as excinfo:
        scheduled.edit_scheduled_reply(
            ticket=ticket, scheduled_reply_id=reply.pk, actor=agent, send_at=NOW
        )
    assert "send_at" in excinfo.value.fields


def test_an_opt_out_meanwhile_makes_it_a_skipped_message_with_the_reason(ticket, agent, frozen):
    reply = _schedule(ticket, agent)
    consent.record_opt_out(
        kind="email", value="ana@example.com", reason=OptOutReason.EMAIL_UNSUBSCRIBE
    )
    frozen.move_to(NOW + timedelta(hours=2))
    with capture_events() as published:
        assert scheduled.send_scheduled_reply_task.call(scheduled_reply_id=reply.pk) == "skipped"

    [message] = _outbound(ticket)
    assert message.delivery_status == DeliveryStatus.SKIPPED
    assert message.error_code and message.error_message
    assert [type(e) for e in published if isinstance(e, events.MessageSkipped)]
    assert not [e for e in published if isinstance(e, events.MessageQueued)]
    reply.refresh_from_db()
    assert (reply.state, reply.message) == (ScheduledReplyState.SKIPPED, message)


def test_a_whatsapp_window_closed_by_a_late_run_is_skipped_with_the_reason(agent, frozen):
    ticket = TicketFactory(channel="whatsapp", status=TicketStatus.OPEN)
    CustomerIdentityFactory(customer=ticket.customer, kind="whatsapp", value="+447700900123")
    services.record_inbound_message(
        ticket=ticket, channel="whatsapp", sender="+447700900123", body="Hi"
    )
    reply = _schedule(ticket, agent, at=NOW + timedelta(hours=23))

    # The worker was down: the sweep finds it after the 24-hour window closed.
    frozen.move_to(NOW + timedelta(hours=25))
    assert sweep_outbound().scheduled_sent == [reply.pk]

    [message] = _outbound(ticket)
    assert (message.delivery_status, message.error_code) == ("skipped", "whatsapp_window_closed")
    page_history = TicketEvent.objects.filter(ticket=ticket, kind="scheduled_reply")
    assert [e.name for e in page_history] == ["scheduled", "not sent"]


def test_a_time_after_the_window_closes_is_refused_when_scheduling(agent, frozen):
    ticket = TicketFactory(channel="whatsapp", status=TicketStatus.OPEN)
    CustomerIdentityFactory(customer=ticket.customer, kind="whatsapp", value="+447700900123")
    services.record_inbound_message(
        ticket=ticket, channel="whatsapp", sender="+447700900123", body="Hi"
    )
    with pytest.raises(ApplicationError) as excinfo:
        _schedule(ticket, agent, at=NOW + timedelta(hours=30))
    assert excinfo.value.status == 409 and "send_at" in excinfo.value.fields


def test_send_now_goes_at_once_and_a_refusal_keeps_it_scheduled(ticket, agent, manager, frozen):
    reply = _schedule(ticket, agent)
    consent.record_opt_out(
        kind="email", value="ana@example.com", reason=OptOutReason.EMAIL_UNSUBSCRIBE
    )
    with pytest.raises(ApplicationError) as excinfo:
        scheduled.send_scheduled_reply_now(ticket=ticket, scheduled_reply_id=reply.pk, actor=agent)
    assert excinfo.value.status == 409
    reply.refresh_from_db()
    assert reply.state == ScheduledReplyState.SCHEDULED and _outbound(ticket) == []

    consent.record_opt_in(kind="email", value="ana@example.com")
    scheduled.send_scheduled_reply_now(ticket=ticket, scheduled_reply_id=reply.pk, actor=manager)
    reply.refresh_from_db()
    assert (reply.state, reply.done_by) == (ScheduledReplyState.SENT, manager)
    assert [m.author for m in _outbound(ticket)] == [agent]


def test_permissions(ticket, agent, other_agent, manager, viewer, frozen):
    with pytest.raises(PermissionDenied):
        _schedule(ticket, viewer)
    reply = _schedule(ticket, agent)
    for action in (scheduled.cancel_scheduled_reply, scheduled.send_scheduled_reply_now):
        with pytest.raises(PermissionDenied):
            action(ticket=ticket, scheduled_reply_id=reply.pk, actor=other_agent)
    # Only the author's words go out in the author's name: a manager cancels but never edits.
    with pytest.raises(PermissionDenied):
        scheduled.edit_scheduled_reply(
            ticket=ticket, scheduled_reply_id=reply.pk, actor=manager, body="Mine now"
        )
    scheduled.cancel_scheduled_reply(ticket=ticket, scheduled_reply_id=reply.pk, actor=manager)


def test_the_sweep_sends_what_a_restart_lost_once(ticket, agent, frozen):
    first = _schedule(ticket, agent)
    later = _schedule(ticket, agent, at=NOW + timedelta(hours=6))
    frozen.move_to(NOW + timedelta(hours=3))
    assert sweep_outbound().scheduled_sent == [first.pk]
    assert sweep_outbound().scheduled_sent == []
    later.refresh_from_db()
    assert later.state == ScheduledReplyState.SCHEDULED
    assert len(_outbound(ticket)) == 1


def test_quick_choices_use_the_shop_time_zone(settings):
    settings.TIME_ZONE = "America/New_York"
    late_evening = datetime.fromisoformat("2026-03-03T03:30:00+00:00")  # 22:30 on the 2nd there
    tomorrow = scheduled.quick_send_time("tomorrow_9", now=late_evening)
    assert tomorrow == datetime.fromisoformat("2026-03-03T09:00:00-05:00")
    assert scheduled.quick_send_time("in_1h", now=late_evening) == late_evening + timedelta(hours=1)


# The page and the API ----------------------------------------------------------------------------


def test_the_composer_schedules_and_the_timeline_shows_it_with_its_actions(
    client, ticket, agent, frozen
):
    client.force_login(agent)
    response = client.post(
        f"/tickets/{ticket.reference}/reply/", {"body": "Tomorrow then", "send_later": "in_1h"}
    )
    assert response.status_code == 302
    reply = ScheduledReply.objects.get()
    assert reply.send_at == NOW + timedelta(hours=1) and _outbound(ticket) == []

    page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert f'data-scheduled-reply="{reply.pk}"' in page and "Scheduled for" in page
    assert f"/scheduled/{reply.pk}/cancel/" in page and f"/scheduled/{reply.pk}/send-now/" in page
    assert "replied since" not in page

    # Front's behaviour: a customer reply marks it and leaves it to the agent.
    frozen.move_to(NOW + timedelta(minutes=10))
    services.record_inbound_message(ticket=ticket, channel="email", sender="ana@x.com", body="?")
    timeline = client.get(f"/tickets/{ticket.reference}/timeline/").content.decode()
    assert "The customer replied since this was scheduled" in timeline
    reply.refresh_from_db()
    assert reply.state == ScheduledReplyState.SCHEDULED

    response = client.post(
        f"/tickets/{ticket.reference}/scheduled/{reply.pk}/edit/",
        {"body": "Edited", "send_at": "2026-03-02T15:30"},
    )
    assert response.status_code == 302
    reply.refresh_from_db()
    assert (reply.body, reply.send_at) == ("Edited", NOW + timedelta(hours=5, minutes=30))
    client.post(f"/tickets/{ticket.reference}/scheduled/{reply.pk}/cancel/")
    reply.refresh_from_db()
    assert reply.state == ScheduledReplyState.CANCELLED
    assert (
        f'data-scheduled-reply="{reply.pk}"'
        not in client.get(f"/tickets/{ticket.reference}/timeline/").content.decode()
    )


def test_a_custom_time_in_the_past_is_a_form_error(client, ticket, agent, frozen):
    client.force_login(agent)
    response = client.post(
        f"/tickets/{ticket.reference}/reply/",
        {"body": "Hi", "send_later": "custom", "send_at": "2026-03-01T09:00"},
    )
    assert response.status_code == 400 and not ScheduledReply.objects.exists()
    assert "send_at" in response.content.decode()


def test_api_schedules_lists_edits_sends_and_cancels(client, ticket, agent, frozen):
    client.force_login(agent)
    url = f"/api/tickets/{ticket.reference}/messages/"
    send_at = (NOW + timedelta(hours=1)).isoformat()

    response = client.post(url, {"body": "Later", "send_at": send_at}, "application/json")
    assert response.status_code == 202, response.content
    created = response.json()
    assert (created["state"], created["send_at"]) == ("scheduled", "2026-03-02T11:00:00Z")
    assert _outbound(ticket) == []

    base = f"/api/tickets/{ticket.reference}/scheduled-replies/"
    assert [r["id"] for r in client.get(base).json()] == [created["id"]]
    response = client.patch(
        f"{base}{created['id']}/", {"body": "Later, edited"}, "application/json"
    )
    assert response.status_code == 200 and response.json()["body"] == "Later, edited"
    response = client.post(f"{base}{created['id']}/send-now/")
    assert response.status_code == 200 and response.json()["state"] == "sent"
    assert [m.body for m in _outbound(ticket)] == ["Later, edited"]
    assert client.delete(f"{base}{created['id']}/").status_code == 409

    other = client.post(url, {"body": "x", "send_at": send_at}, "application/json").json()
    assert client.delete(f"{base}{other['id']}/").status_code == 204


@pytest.mark.parametrize("send_at", ["2026-03-02T09:00:00Z", "2026-04-10T09:00:00Z", "not a time"])
def test_api_refuses_a_bad_time_naming_the_field(client, ticket, agent, frozen, send_at):
    client.force_login(agent)
    response = client.post(
        f"/api/tickets/{ticket.reference}/messages/",
        {"body": "Later", "send_at": send_at},
        "application/json",
    )
    assert response.status_code == 400
    assert "send_at" in response.json()["fields"]
    assert not ScheduledReply.objects.exists()


def test_api_permissions(client, ticket, agent, other_agent, viewer, frozen):
    reply = _schedule(ticket, agent)
    base = f"/api/tickets/{ticket.reference}/scheduled-replies/{reply.pk}/"
    client.force_login(other_agent)
    assert client.delete(base).status_code == 403
    assert client.patch(base, {"body": "x"}, "application/json").status_code == 403
    client.force_login(viewer)
    response = client.post(
        f"/api/tickets/{ticket.reference}/messages/",
        {"body": "x", "send_at": (NOW + timedelta(hours=1)).isoformat()},
        "application/json",
    )
    assert response.status_code == 403
    reply.refresh_from_db()
    assert reply.state == ScheduledReplyState.SCHEDULED


def test_erasure_cancels_a_waiting_reply_and_erases_its_text(ticket, agent, frozen):
    reply = _schedule(ticket, agent)
    erase_customer_records(customer=ticket.customer)
    reply.refresh_from_db()
    assert reply.state == ScheduledReplyState.CANCELLED and "proof" not in reply.body


def test_a_merge_takes_waiting_replies_to_the_ticket_the_conversation_continues_on(
    ticket, agent, manager, frozen
):
    reply = _schedule(ticket, agent)
    target = TicketFactory(customer=ticket.customer, status=TicketStatus.OPEN)
    merges.merge_tickets(source=ticket, target=target, actor=manager)
    frozen.move_to(NOW + timedelta(hours=2))
    assert sweep_outbound().scheduled_sent == [reply.pk]
    assert [m.ticket_id for m in TicketMessage.objects.filter(direction="out")] == [target.pk]
