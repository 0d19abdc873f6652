"""The hooks Tickets calls: conversation logs on solve/reopen and the CSAT survey send."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from analytics.models import ConversationLog, CustomerSatisfaction
from analytics.selectors import ReportFilters, get_first_response_times
from analytics.services import refresh_conversation_log, schedule_csat_survey
from tickets.models import ChannelKind, IdentityKind, MessageDirection, TicketStatus
from tickets.services import (
    open_ticket,
    record_inbound_message,
    reply_to_ticket,
    send_automated_message,
)
from tickets.tests.factories import (
    CustomerIdentityFactory,
    InternalNoteFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def solve(ticket) -> None:
    ticket.status = TicketStatus.SOLVED
    ticket.resolved_at = timezone.now()
    ticket.save()
    refresh_conversation_log(ticket=ticket)


def test_first_response_ignores_notes_and_automated_messages(time_machine):
    time_machine.move_to(T0, tick=False)
    agent = UserFactory(role=Role.AGENT)
    customer = CustomerIdentityFactory(value="fr@example.com").customer
    ticket = open_ticket(customer=customer, channel=ChannelKind.EMAIL, subject="Proof")
    record_inbound_message(ticket=ticket, channel="email", sender="fr@example.com", body="Hi")
    time_machine.move_to(T0 + timedelta(minutes=1), tick=False)
    send_automated_message(ticket=ticket, body="We got your message.")
    time_machine.move_to(T0 + timedelta(minutes=5), tick=False)
    InternalNoteFactory(ticket=ticket, author=agent)
    time_machine.move_to(T0 + timedelta(minutes=30), tick=False)
    reply_to_ticket(ticket=ticket, author=agent, body="Here is your proof.")
    time_machine.move_to(T0 + timedelta(hours=2), tick=False)
    ticket.refresh_from_db()
    solve(ticket)

    log = ConversationLog.objects.get(ticket=ticket)
    assert (log.inbound_count, log.outbound_count, log.note_count) == (1, 1, 1)
    assert log.first_response_seconds == 30 * 60
    assert log.resolution_seconds == 2 * 3600
    assert log.solved_at == T0 + timedelta(hours=2)
    assert log.reopen_count == 0
    day = ReportFilters(date_from=T0.date(), date_to=T0.date())
    frt = get_first_response_times(filters=day)
    assert (frt["count"], frt["median_seconds"], frt["business_median_seconds"]) == (1, 1800, 1800)


def test_log_follows_reopen_and_second_solve(time_machine):
    time_machine.move_to(T0, tick=False)
    ticket = TicketFactory()
    time_machine.move_to(T0 + timedelta(hours=1), tick=False)
    solve(ticket)

    time_machine.move_to(T0 + timedelta(hours=3), tick=False)
    record_inbound_message(ticket=ticket, channel=ticket.channel, sender="x@example.com", body="no")
    ticket.refresh_from_db()
    refresh_conversation_log(ticket=ticket)
    log = ConversationLog.objects.get(ticket=ticket)
    assert log.solved_at is None and log.resolution_seconds is None
    assert log.reopen_count == 1

    time_machine.move_to(T0 + timedelta(hours=5), tick=False)
    solve(ticket)
    log.refresh_from_db()
    assert log.resolution_seconds == 5 * 3600
    assert (log.reopen_count, log.inbound_count) == (1, 1)


def _solved_ticket(channel=ChannelKind.EMAIL, kind=IdentityKind.EMAIL, value="c@example.com"):
    ticket = TicketFactory(channel=channel, status=TicketStatus.SOLVED)
    CustomerIdentityFactory(customer=ticket.customer, kind=kind, value=value)
    return ticket


def test_survey_is_sent_by_email_with_link(django_capture_on_commit_callbacks, settings):
    settings.PUBLIC_BASE_URL = "https://help.example.com"
    ticket = _solved_ticket()
    with django_capture_on_commit_callbacks(execute=True):
        schedule_csat_survey(ticket_id=ticket.pk)

    survey = CustomerSatisfaction.objects.get(ticket=ticket)
    assert len(survey.token) >= 20 and survey.expires_at > timezone.now()
    message = ticket.messages.get(direction=MessageDirection.OUTBOUND)
    assert message.is_automated and message.channel == ChannelKind.EMAIL
    assert f"https://help.example.com/csat/{survey.token}/" in message.body


def test_survey_on_sms_is_a_short_text(django_capture_on_commit_callbacks):
    ticket = _solved_ticket(ChannelKind.SMS, IdentityKind.PHONE, "+31612345678")
    with django_capture_on_commit_callbacks(execute=True):
        schedule_csat_survey(ticket_id=ticket.pk)
    message = ticket.messages.get()
    assert message.channel == ChannelKind.SMS and len(message.body) < 160
    assert f"/csat/{ticket.satisfaction.token}/" in message.body


def test_reopened_ticket_gets_no_survey():
    ticket = TicketFactory(status=TicketStatus.OPEN)
    schedule_csat_survey(ticket_id=ticket.pk)
    assert not CustomerSatisfaction.objects.exists()
    assert not ticket.messages.exists()


def test_answered_survey_is_not_sent_again():
    ticket = _solved_ticket()
    schedule_csat_survey(ticket_id=ticket.pk)
    CustomerSatisfaction.objects.filter(ticket=ticket).update(rating=5, answered_at=timezone.now())
    schedule_csat_survey(ticket_id=ticket.pk)
    assert ticket.messages.count() == 1


def test_unanswered_survey_is_renewed_on_second_solve():
    ticket = _solved_ticket()
    schedule_csat_survey(ticket_id=ticket.pk)
    first_token = ticket.satisfaction.token
    schedule_csat_survey(ticket_id=ticket.pk)
    assert CustomerSatisfaction.objects.filter(ticket=ticket).count() == 1
    assert CustomerSatisfaction.objects.get(ticket=ticket).token != first_token


def test_survey_waits_for_the_configured_delay(settings, monkeypatch, time_machine):
    time_machine.move_to(T0, tick=False)
    settings.CSAT_SURVEY_DELAY_MINUTES = 90
    from analytics import tasks

    enqueued = []
    backend = tasks.send_csat_survey.get_backend()
    monkeypatch.setattr(type(backend), "supports_defer", True)
    monkeypatch.setattr(
        type(backend), "enqueue", lambda self, task, args, kwargs: enqueued.append(task)
    )
    schedule_csat_survey(ticket_id=1)
    assert enqueued[0].run_after == T0 + timedelta(minutes=90)
