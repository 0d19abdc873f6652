"""What the tickets services publish (tickets/events.py), captured like Zulip's
`capture_send_event_calls`; the reactions are tested in each subscribing app."""

import pytest

from accounts.tests.factories import TeamFactory
from core.events import capture_events
from tickets import delivery, events, merges, routing, services
from tickets.models import ChannelKind, DeliveryStatus, IdentityKind, TicketPriority
from tickets.models import TicketStatus as S
from tickets.saved_replies import create_saved_reply
from tickets.tests.factories import CustomerFactory, OutboundMessageFactory, TicketFactory

pytestmark = pytest.mark.django_db


def test_solving_publishes_status_changed_then_solved(agent):
    ticket = TicketFactory(status=S.OPEN)
    with capture_events() as published:
        services.change_status(ticket=ticket, actor=agent, status=S.SOLVED)
    assert published == [
        events.TicketStatusChanged(
            ticket_id=ticket.pk, actor_id=agent.pk, previous=S.OPEN, status=S.SOLVED
        ),
        events.TicketSolved(ticket_id=ticket.pk, actor_id=agent.pk),
    ]


def test_an_unchanged_status_publishes_nothing(agent):
    ticket = TicketFactory(status=S.OPEN)
    with capture_events() as published:
        services.change_status(ticket=ticket, actor=agent, status=S.OPEN)
    assert published == []


def test_a_new_customer_and_ticket_and_message_are_announced():
    with capture_events() as published:
        customer = services.find_or_create_customer(kind=IdentityKind.PHONE, value="+31612345678")
        ticket = services.open_ticket(customer=customer, channel=ChannelKind.SMS, subject="Hi")
        message = services.record_inbound_message(
            ticket=ticket, channel=ChannelKind.SMS, sender="+31612345678", body="Hi"
        )
    assert published == [
        events.CustomerCreated(customer_id=customer.pk, via=IdentityKind.PHONE),
        events.TicketCreated(
            ticket_id=ticket.pk, actor_id=None, channel=ChannelKind.SMS, follow_up_of=None
        ),
        events.MessageReceived(
            ticket_id=ticket.pk, message_id=message.pk, channel=ChannelKind.SMS, reopened=False
        ),
    ]


def test_a_message_on_a_solved_ticket_is_announced_as_reopening_it():
    ticket = TicketFactory(status=S.SOLVED)
    with capture_events() as published:
        message = services.record_inbound_message(
            ticket=ticket, channel=ChannelKind.EMAIL, sender="c@example.com", body="Still broken"
        )
    assert published == [
        events.MessageReceived(
            ticket_id=ticket.pk, message_id=message.pk, channel=ChannelKind.EMAIL, reopened=True
        )
    ]


def test_a_reply_and_a_system_message_are_queued_for_delivery(agent):
    ticket = TicketFactory(status=S.NEW)
    with capture_events() as published:
        reply = services.reply_to_ticket(ticket=ticket, author=agent, body="On it")
        survey = services.send_automated_message(ticket=ticket, body="Rate us")
    assert published == [
        events.MessageQueued(
            ticket_id=ticket.pk,
            message_id=reply.pk,
            channel=ChannelKind.EMAIL,
            author_id=agent.pk,
            is_automated=False,
            is_system=False,
        ),
        events.MessageQueued(
            ticket_id=ticket.pk,
            message_id=survey.pk,
            channel=ChannelKind.EMAIL,
            author_id=None,
            is_automated=True,
            is_system=True,
        ),
    ]


def test_a_refused_reply_publishes_nothing(agent):
    ticket = TicketFactory(channel=ChannelKind.WHATSAPP)
    with capture_events() as published, pytest.raises(Exception, match="WhatsApp"):
        services.reply_to_ticket(ticket=ticket, author=agent, body="Hello")
    assert published == []


def test_assignment_priority_and_note_are_announced(manager, agent):
    ticket = TicketFactory()
    team = TeamFactory()
    with capture_events() as published:
        services.assign_ticket(ticket=ticket, actor=manager, assignee=agent, team=team)
        services.change_priority(ticket=ticket, actor=manager, priority=TicketPriority.HIGH)
        note = services.add_internal_note(ticket=ticket, author=manager, body="VIP")
    assignment = ticket.assignments.get()
    assert published == [
        events.TicketAssigned(
            ticket_id=ticket.pk,
            assignment_id=assignment.pk,
            actor_id=manager.pk,
            assignee_id=agent.pk,
            team_id=team.pk,
            reason="",
        ),
        events.TicketPriorityChanged(
            ticket_id=ticket.pk,
            actor_id=manager.pk,
            previous=TicketPriority.NORMAL,
            priority=TicketPriority.HIGH,
        ),
        events.NoteAdded(ticket_id=ticket.pk, note_id=note.pk, actor_id=manager.pk),
    ]


def test_escalation_and_handoffs_are_announced(agent, manager, admin_user):
    ticket = TicketFactory(assignee=agent)
    with capture_events() as published:
        escalation = routing.escalate_ticket(
            ticket=ticket, actor=agent, reason="Angry", to_user=manager
        )
        handoff = routing.request_handoff(
            ticket=ticket, actor=agent, reason="Holiday", to_agent=admin_user
        )
        routing.decline_handoff(handoff=handoff, actor=admin_user)
    assert published == [
        events.TicketEscalated(
            ticket_id=ticket.pk,
            escalation_id=escalation.pk,
            actor_id=agent.pk,
            to_user_id=manager.pk,
            to_team_id=None,
            previous_priority=TicketPriority.NORMAL,
            priority=TicketPriority.HIGH,
        ),
        events.HandoffRequested(
            ticket_id=ticket.pk,
            handoff_id=handoff.pk,
            actor_id=agent.pk,
            to_agent_id=admin_user.pk,
            to_team_id=None,
        ),
        events.HandoffAnswered(
            ticket_id=ticket.pk, handoff_id=handoff.pk, actor_id=admin_user.pk, is_accepted=False
        ),
    ]


def test_merges_and_saved_replies_are_announced(admin_user):
    source, target = CustomerFactory(), CustomerFactory()
    with capture_events() as published:
        merges.merge_customers(source=source, target=target, actor=admin_user)
        reply = create_saved_reply(actor=admin_user, title="Thanks", body="Thank you!")
    assert published == [
        events.CustomersMerged(
            source_id=source.pk,
            target_id=target.pk,
            actor_id=admin_user.pk,
            identities=0,
            tickets=0,
        ),
        events.SavedReplyChanged(saved_reply_id=reply.pk, actor_id=admin_user.pk, change="created"),
    ]


def test_a_staff_retry_of_a_failed_send_is_announced_for_redelivery(agent):
    message = OutboundMessageFactory(delivery_status=DeliveryStatus.FAILED, send_attempts=3)
    with capture_events() as published:
        delivery.requeue_failed_message(message=message, actor=agent)
    message.refresh_from_db()
    assert (message.delivery_status, message.send_attempts) == (DeliveryStatus.QUEUED, 0)
    assert published[-1] == events.MessageRequeued(
        ticket_id=message.ticket_id, message_id=message.pk, actor_id=agent.pk
    )


def test_a_system_note_is_written_without_an_event():
    ticket = TicketFactory()
    with capture_events() as published:
        note = services.add_system_note(ticket=ticket, body="Proof v2 approved.")
    assert (note.author, note.is_automated, note.body) == (None, True, "Proof v2 approved.")
    assert published == []
