"""Each comms subscriber, called with the tickets event it handles: who gets notified."""

import pytest

from accounts.models import Role
from accounts.tests.factories import TeamFactory, UserFactory
from comms import subscribers
from comms.models import Notification, NotificationKind
from tickets import events
from tickets.models import AgentHandoff, Escalation, HandoffState
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_the_new_assignee_is_notified_but_not_of_their_own_action():
    manager, agent = UserFactory(role=Role.MANAGER), UserFactory(role=Role.AGENT)
    ticket = TicketFactory()
    for actor in (manager, agent):
        subscribers.notify_assignee(
            events.TicketAssigned(
                ticket_id=ticket.pk,
                assignment_id=1,
                actor_id=actor.pk,
                assignee_id=agent.pk,
                team_id=None,
                reason="",
            )
        )
    notification = Notification.objects.get()
    assert (notification.recipient, notification.actor, notification.kind) == (
        agent,
        manager,
        NotificationKind.ASSIGNMENT,
    )
    assert notification.title == f"{ticket.reference} was assigned to you"
    assert notification.url == f"/tickets/{ticket.reference}/"


def test_an_unassignment_notifies_nobody():
    subscribers.notify_assignee(
        events.TicketAssigned(
            ticket_id=TicketFactory().pk,
            assignment_id=1,
            actor_id=None,
            assignee_id=None,
            team_id=None,
            reason="",
        )
    )
    assert not Notification.objects.exists()


def test_an_escalation_to_a_team_notifies_its_active_members():
    agent = UserFactory(role=Role.AGENT)
    active, inactive = UserFactory(role=Role.MANAGER), UserFactory(is_active=False)
    team = TeamFactory()
    team.members.add(active, inactive)
    ticket = TicketFactory()
    escalation = Escalation.objects.create(
        ticket=ticket,
        escalated_by=agent,
        to_team=team,
        reason="Customer threatens a chargeback",
        previous_priority="normal",
        new_priority="high",
    )
    subscribers.notify_escalation(
        events.TicketEscalated(
            ticket_id=ticket.pk,
            escalation_id=escalation.pk,
            actor_id=agent.pk,
            to_user_id=None,
            to_team_id=team.pk,
            previous_priority="normal",
            priority="high",
        )
    )
    notification = Notification.objects.get()
    assert notification.recipient == active
    assert notification.kind == NotificationKind.ESCALATION
    assert notification.body == "Customer threatens a chargeback"


def test_a_handoff_notifies_its_target_then_its_sender_of_the_answer():
    sender, target = UserFactory(role=Role.AGENT), UserFactory(role=Role.AGENT)
    ticket = TicketFactory()
    handoff = AgentHandoff.objects.create(
        ticket=ticket, from_agent=sender, to_agent=target, reason="Holiday", context_summary="VIP"
    )
    subscribers.notify_handoff_requested(
        events.HandoffRequested(
            ticket_id=ticket.pk,
            handoff_id=handoff.pk,
            actor_id=sender.pk,
            to_agent_id=target.pk,
            to_team_id=None,
        )
    )
    AgentHandoff.objects.filter(pk=handoff.pk).update(
        state=HandoffState.DECLINED, responded_by=target, response_note="Too busy"
    )
    subscribers.notify_handoff_answered(
        events.HandoffAnswered(
            ticket_id=ticket.pk, handoff_id=handoff.pk, actor_id=target.pk, is_accepted=False
        )
    )
    asked, answered = Notification.objects.order_by("pk")
    assert (asked.recipient, asked.title, asked.body) == (
        target,
        f"{sender} asks you to take {ticket.reference}",
        "Holiday\n\nVIP",
    )
    assert (answered.recipient, answered.title, answered.body) == (
        sender,
        f"{target} declined {ticket.reference}",
        "Too busy",
    )
