from unittest import mock

import pytest
from django.utils import timezone

from analytics.models import AnalyticsEvent, ConversationLog
from comms.models import Notification, NotificationKind
from core.errors import ApplicationError, Conflict, PermissionDenied
from tickets import routing, services
from tickets.models import (
    AgentHandoff,
    Escalation,
    HandoffState,
    Ticket,
    TicketAssignment,
    TicketPriority,
    TicketStatus,
)
from tickets.selectors import get_ticket_timeline
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

S = TicketStatus
LEGAL = [
    (S.NEW, S.OPEN),
    (S.NEW, S.PENDING),
    (S.NEW, S.ON_HOLD),
    (S.NEW, S.SOLVED),
    (S.OPEN, S.PENDING),
    (S.OPEN, S.ON_HOLD),
    (S.OPEN, S.SOLVED),
    (S.PENDING, S.OPEN),
    (S.PENDING, S.ON_HOLD),
    (S.PENDING, S.SOLVED),
    (S.ON_HOLD, S.OPEN),
    (S.ON_HOLD, S.PENDING),
    (S.ON_HOLD, S.SOLVED),
    (S.SOLVED, S.OPEN),
    (S.SOLVED, S.CLOSED),
    (S.CLOSED, S.OPEN),
]
ILLEGAL = [
    (before, after)
    for before in S.values
    for after in S.values
    if before != after and (before, after) not in LEGAL
]


@pytest.mark.parametrize(("before", "after"), LEGAL)
def test_legal_transitions(before, after, agent):
    ticket = TicketFactory(status=before)
    services.change_status(ticket=ticket, actor=agent, status=after)
    ticket.refresh_from_db()
    assert ticket.status == after
    assert AnalyticsEvent.objects.filter(
        name="ticket.status_changed", ticket=ticket, properties={"from": before, "to": after}
    ).exists()


@pytest.mark.parametrize(("before", "after"), ILLEGAL)
def test_illegal_transitions_conflict(before, after, agent):
    ticket = TicketFactory(status=before)
    with pytest.raises(Conflict) as caught:
        services.change_status(ticket=ticket, actor=agent, status=after)
    assert caught.value.status == 409
    ticket.refresh_from_db()
    assert ticket.status == before


def test_staff_reopen_a_closed_ticket_but_not_a_merged_one(agent):
    ticket = TicketFactory(status=S.CLOSED, resolved_at=timezone.now(), closed_at=timezone.now())
    services.change_status(ticket=ticket, actor=agent, status=S.OPEN)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolved_at, ticket.closed_at) == (S.OPEN, None, None)
    merged = TicketFactory(status=S.CLOSED, merged_into=TicketFactory())
    with pytest.raises(Conflict) as caught:
        services.change_status(ticket=merged, actor=agent, status=S.OPEN)
    assert caught.value.code == "ticket_merged"


def test_viewer_cannot_change_status(viewer):
    with pytest.raises(PermissionDenied):
        services.change_status(ticket=TicketFactory(), actor=viewer, status=S.OPEN)


def test_solving_sets_resolved_at_logs_and_schedules_csat(
    agent, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(status=S.OPEN)
    with (
        mock.patch("analytics.subscribers.schedule_csat_survey") as schedule,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.change_status(ticket=ticket, actor=agent, status=S.SOLVED)
    ticket.refresh_from_db()
    assert ticket.resolved_at is not None
    assert ConversationLog.objects.get(ticket=ticket).solved_at is not None
    schedule.assert_called_once_with(ticket_id=ticket.pk)


def test_staff_reopen_clears_resolved_at_and_rewrites_log(agent):
    ticket = TicketFactory(status=S.OPEN)
    services.change_status(ticket=ticket, actor=agent, status=S.SOLVED)
    services.change_status(ticket=ticket, actor=agent, status=S.OPEN)
    ticket.refresh_from_db()
    assert ticket.resolved_at is None
    assert ConversationLog.objects.get(ticket=ticket).solved_at is None
    assert AnalyticsEvent.objects.filter(name="ticket.reopened", ticket=ticket).exists()


def test_closing_sets_closed_at(agent):
    ticket = TicketFactory(status=S.SOLVED)
    services.change_status(ticket=ticket, actor=agent, status=S.CLOSED)
    ticket.refresh_from_db()
    assert ticket.closed_at is not None


def test_customer_reply_reopens_solved_ticket(agent):
    ticket = TicketFactory(status=S.OPEN)
    services.change_status(ticket=ticket, actor=agent, status=S.SOLVED)
    services.record_inbound_message(ticket=ticket, channel="email", sender="a@b.co", body="More")
    ticket.refresh_from_db()
    assert ticket.status == S.OPEN and ticket.resolved_at is None
    assert ConversationLog.objects.get(ticket=ticket).solved_at is None


def test_message_on_closed_ticket_opens_follow_up_and_leaves_original(agent):
    ticket = TicketFactory(status=S.CLOSED)
    message = services.record_inbound_message(
        ticket=ticket, channel="sms", sender="+447700900123", body="Hello again"
    )
    assert message.ticket.follow_up_of == ticket
    assert message.ticket.status == S.NEW
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED


def test_first_response_is_set_once_by_staff_reply(agent, other_agent):
    ticket = TicketFactory(status=S.NEW)
    services.send_automated_message(ticket=ticket, body="We got your message")
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    services.reply_to_ticket(ticket=ticket, author=agent, body="Looking now", channel="email")
    ticket.refresh_from_db()
    first = ticket.first_response_at
    assert first is not None and ticket.status == S.OPEN
    services.reply_to_ticket(ticket=ticket, author=other_agent, body="Done", channel="email")
    ticket.refresh_from_db()
    assert ticket.first_response_at == first


def test_reply_and_set_status_in_one_go(agent):
    ticket = TicketFactory(status=S.OPEN)
    services.reply_to_ticket(
        ticket=ticket, author=agent, body="Proof attached", set_status="pending"
    )
    ticket.refresh_from_db()
    assert ticket.status == S.PENDING


def test_reply_with_illegal_status_rolls_back_the_reply(agent):
    ticket = TicketFactory(status=S.OPEN)
    with pytest.raises(Conflict):
        services.reply_to_ticket(ticket=ticket, author=agent, body="x", set_status="closed")
    assert not ticket.messages.exists()


def test_reply_defaults_to_the_channel_the_customer_last_used(agent):
    ticket = TicketFactory(channel="email", status=S.OPEN)
    services.record_inbound_message(
        ticket=ticket, channel="sms", sender="+447700900123", body="texting you"
    )
    message = services.reply_to_ticket(ticket=ticket, author=agent, body="ok")
    assert message.channel == "sms"


def test_unknown_priority_is_refused(agent):
    ticket = TicketFactory(status=S.OPEN)
    with pytest.raises(ApplicationError):
        services.change_priority(ticket=ticket, actor=agent, priority="whenever")


def test_note_is_recorded_and_published(agent, django_capture_on_commit_callbacks):
    ticket = TicketFactory(status=S.OPEN)
    with (
        mock.patch("tickets.live.group_send") as send,
        django_capture_on_commit_callbacks(execute=True),
    ):
        note = services.add_internal_note(ticket=ticket, author=agent, body="Call back at 3")
    assert note.ticket == ticket
    groups = [call.args[0] for call in send.call_args_list]
    assert f"ticket.{ticket.reference}" in groups and "inbox" in groups
    assert send.call_args_list[0].args[1]["type"] == "ticket.updated"
    assert AnalyticsEvent.objects.filter(name="ticket.note_added").exists()
    with pytest.raises(ApplicationError):
        services.add_internal_note(ticket=ticket, author=agent, body=" ")


def test_nothing_is_published_when_the_transaction_rolls_back(
    agent, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(status=S.OPEN)
    with (
        mock.patch("tickets.live.group_send") as send,
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Conflict),
    ):
        services.reply_to_ticket(ticket=ticket, author=agent, body="x", set_status="new")
    send.assert_not_called()


# Assignment ------------------------------------------------------------------------------------


def test_agent_takes_a_ticket(agent):
    ticket = TicketFactory(status=S.NEW)
    services.assign_ticket(ticket=ticket, actor=agent, assignee=agent, team=None)
    ticket.refresh_from_db()
    assert ticket.assignee == agent and ticket.status == S.OPEN
    row = TicketAssignment.objects.get()
    assert row.to_agent == agent and row.assigned_by == agent and row.from_agent is None


def test_agent_cannot_assign_others_or_move_teams(agent, other_agent, team):
    ticket = TicketFactory(status=S.OPEN)
    with pytest.raises(PermissionDenied):
        services.assign_ticket(ticket=ticket, actor=agent, assignee=other_agent, team=None)
    with pytest.raises(PermissionDenied):
        services.assign_ticket(ticket=ticket, actor=agent, assignee=agent, team=team)
    assert not TicketAssignment.objects.exists()


def test_agent_may_release_their_own_ticket(agent):
    ticket = TicketFactory(status=S.OPEN, assignee=agent)
    services.assign_ticket(ticket=ticket, actor=agent, assignee=None, team=None)
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_manager_assigns_agent_and_team_and_agent_is_notified(manager, agent, team):
    ticket = TicketFactory(status=S.OPEN)
    services.assign_ticket(ticket=ticket, actor=manager, assignee=agent, team=team, reason="VIP")
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.team) == (agent, team)
    notification = Notification.objects.get(recipient=agent)
    assert notification.kind == NotificationKind.ASSIGNMENT
    assert notification.url == f"/tickets/{ticket.reference}/"
    assert AnalyticsEvent.objects.filter(name="ticket.assigned", ticket=ticket).exists()


def test_assigning_to_a_viewer_is_refused(manager, viewer):
    with pytest.raises(ApplicationError) as caught:
        services.assign_ticket(ticket=TicketFactory(), actor=manager, assignee=viewer, team=None)
    assert "assignee" in caught.value.fields


def test_reassigning_the_same_target_writes_no_history(manager, agent):
    ticket = TicketFactory(status=S.OPEN, assignee=agent)
    services.assign_ticket(ticket=ticket, actor=manager, assignee=agent, team=None)
    assert not TicketAssignment.objects.exists()


# Escalation ------------------------------------------------------------------------------------


def test_escalation_raises_priority_flags_and_notifies_manager(agent, manager):
    ticket = TicketFactory(status=S.OPEN, priority=TicketPriority.NORMAL)
    escalation = routing.escalate_ticket(
        ticket=ticket, actor=agent, reason="Customer threatens chargeback", to_user=manager
    )
    ticket.refresh_from_db()
    assert ticket.is_escalated and ticket.priority == TicketPriority.HIGH
    assert (escalation.previous_priority, escalation.new_priority) == ("normal", "high")
    assert Notification.objects.get(recipient=manager).kind == NotificationKind.ESCALATION


def test_escalation_to_team_routes_and_notifies_members(manager, agent, other_agent, team):
    team.members.add(agent, other_agent)
    ticket = TicketFactory(status=S.OPEN, priority=TicketPriority.HIGH)
    routing.escalate_ticket(
        ticket=ticket, actor=agent, reason="Press broke", to_team=team, priority="urgent"
    )
    ticket.refresh_from_db()
    assert ticket.team == team and ticket.priority == TicketPriority.URGENT
    # The team change is in the assignment history, by whom and why.
    [assignment] = ticket.assignments.all()
    assert (assignment.to_team, assignment.to_agent, assignment.assigned_by) == (team, None, agent)
    assert assignment.reason == "Escalated: Press broke"
    # The escalating agent is not notified of their own action.
    assert list(Notification.objects.values_list("recipient", flat=True)) == [other_agent.pk]


def test_escalation_to_a_team_keeps_the_assignee_and_records_the_move(manager, agent, team):
    ticket = TicketFactory(status=S.OPEN, assignee=agent)
    routing.escalate_ticket(ticket=ticket, actor=manager, reason="Big order", to_team=team)
    routing.escalate_ticket(ticket=ticket, actor=manager, reason="Still stuck", to_team=team)
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.team) == (agent, team)
    [assignment] = ticket.assignments.all()  # the second escalation moved nothing
    assert (assignment.from_agent, assignment.to_agent, assignment.to_team) == (agent, agent, team)
    assert not Notification.objects.filter(kind=NotificationKind.ASSIGNMENT).exists()
    kinds = [entry.kind for entry in get_ticket_timeline(ticket=ticket)]
    assert kinds.count("assignment") == 1 and kinds.count("escalation") == 2


def test_escalation_to_a_manager_moves_no_team(agent, manager, team):
    ticket = TicketFactory(status=S.OPEN, team=team)
    routing.escalate_ticket(ticket=ticket, actor=agent, reason="Refund", to_user=manager)
    ticket.refresh_from_db()
    assert ticket.team == team and not ticket.assignments.exists()


def test_escalation_never_lowers_priority(manager):
    ticket = TicketFactory(status=S.OPEN, priority=TicketPriority.URGENT)
    escalation = routing.escalate_ticket(
        ticket=ticket, actor=manager, reason="x", to_user=manager, priority="low"
    )
    assert escalation.new_priority == TicketPriority.URGENT


def test_escalation_needs_reason_and_a_manager(agent, other_agent):
    ticket = TicketFactory(status=S.OPEN)
    with pytest.raises(ApplicationError) as caught:
        routing.escalate_ticket(ticket=ticket, actor=agent, reason="", to_user=other_agent)
    assert set(caught.value.fields) == {"reason", "to_user"}
    assert not Escalation.objects.exists()


def test_viewer_cannot_escalate(viewer, manager):
    with pytest.raises(PermissionDenied):
        routing.escalate_ticket(ticket=TicketFactory(), actor=viewer, reason="x", to_user=manager)


# Handoffs --------------------------------------------------------------------------------------


def test_handoff_to_agent_accept_reassigns_and_notifies(agent, other_agent):
    ticket = TicketFactory(status=S.OPEN, assignee=agent)
    handoff = routing.request_handoff(
        ticket=ticket,
        actor=agent,
        to_agent=other_agent,
        reason="Going on leave",
        context_summary="Waiting for artwork v2",
    )
    assert Notification.objects.get(recipient=other_agent).kind == NotificationKind.HANDOFF
    routing.accept_handoff(handoff=handoff, actor=other_agent)
    ticket.refresh_from_db()
    handoff.refresh_from_db()
    assert ticket.assignee == other_agent
    assert handoff.state == HandoffState.ACCEPTED and handoff.responded_by == other_agent
    assert Notification.objects.filter(recipient=agent, kind=NotificationKind.HANDOFF).exists()
    assert TicketAssignment.objects.get().reason == "Handoff accepted"


def test_handoff_to_team_is_accepted_by_a_member(agent, other_agent, team):
    team.members.add(other_agent)
    ticket = TicketFactory(status=S.OPEN, assignee=agent)
    handoff = routing.request_handoff(ticket=ticket, actor=agent, to_team=team, reason="Print")
    routing.accept_handoff(handoff=handoff, actor=other_agent)
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.team) == (other_agent, team)


def test_only_the_addressee_answers_and_only_once(agent, other_agent, manager):
    ticket = TicketFactory(status=S.OPEN, assignee=agent)
    handoff = routing.request_handoff(ticket=ticket, actor=agent, to_agent=other_agent, reason="x")
    with pytest.raises(PermissionDenied):
        routing.accept_handoff(handoff=handoff, actor=manager)
    routing.decline_handoff(handoff=handoff, actor=other_agent, note="Full queue")
    with pytest.raises(Conflict):
        routing.accept_handoff(handoff=handoff, actor=other_agent)
    ticket.refresh_from_db()
    assert ticket.assignee == agent


def test_one_pending_handoff_per_ticket(agent, other_agent, team):
    ticket = TicketFactory(status=S.OPEN, assignee=agent)
    routing.request_handoff(ticket=ticket, actor=agent, to_agent=other_agent, reason="x")
    with pytest.raises(Conflict):
        routing.request_handoff(ticket=ticket, actor=agent, to_team=team, reason="y")


def test_handoff_validation(agent, other_agent, team):
    ticket = TicketFactory(status=S.OPEN, assignee=agent)
    with pytest.raises(ApplicationError) as caught:
        routing.request_handoff(ticket=ticket, actor=agent, to_agent=agent, reason="")
    assert set(caught.value.fields) == {"reason", "to_agent"}
    with pytest.raises(ApplicationError):
        routing.request_handoff(
            ticket=ticket, actor=agent, to_agent=other_agent, to_team=team, reason="x"
        )
    assert not AgentHandoff.objects.exists()


def test_agent_cannot_hand_off_someone_elses_ticket(agent, other_agent, manager):
    ticket = TicketFactory(status=S.OPEN, assignee=other_agent)
    with pytest.raises(PermissionDenied):
        routing.request_handoff(ticket=ticket, actor=agent, to_agent=manager, reason="x")


def test_mark_ticket_viewed_is_idempotent(agent):
    ticket = TicketFactory()
    services.mark_ticket_viewed(ticket=ticket, user=agent)
    services.mark_ticket_viewed(ticket=ticket, user=agent)
    assert ticket.views.count() == 1


def test_bulk_status_is_all_or_nothing(manager):
    from tickets.bulk import bulk_update_tickets

    ok = TicketFactory(status=S.OPEN)
    bad = TicketFactory(status=S.CLOSED)
    with pytest.raises(Conflict) as caught:
        bulk_update_tickets(tickets=[ok, bad], actor=manager, action="status", status="pending")
    assert bad.reference in caught.value.message
    ok.refresh_from_db()
    assert ok.status == S.OPEN
    assert Ticket.objects.filter(status=S.PENDING).count() == 0
