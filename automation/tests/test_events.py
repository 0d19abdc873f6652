"""Events emitted by the tickets services reach rules, SLA state and webhooks after commit;
rule-caused events cannot loop."""

import pytest
from django.db import transaction

from accounts.models import Role
from accounts.tests.factories import UserFactory
from automation.models import RuleEvent, RuleRun, TicketSla
from automation.tests.factories import RuleFactory
from tickets import services as ticket_services
from tickets.models import ChannelKind, IdentityKind, TicketPriority
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def receive_whatsapp(number: str, body: str):
    """What the omnichannel inbound path does for a new conversation."""
    with transaction.atomic():
        customer = ticket_services.find_or_create_customer(kind=IdentityKind.WHATSAPP, value=number)
        ticket = ticket_services.open_ticket(
            customer=customer, channel=ChannelKind.WHATSAPP, subject=body[:60]
        )
        ticket_services.record_inbound_message(
            ticket=ticket, channel=ChannelKind.WHATSAPP, sender=number, body=body
        )
    ticket.refresh_from_db()
    return ticket


def test_a_whatsapp_message_from_a_vip_triggers_the_demo_rule(
    fake_perp, sales, make_agent, django_capture_on_commit_callbacks
):
    from automation.demo import seed_automation_demo

    agent = make_agent(team=sales)
    seed_automation_demo()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = receive_whatsapp("+447700900004", "Are my banners ready?")

    ticket.refresh_from_db()
    assert (ticket.priority, ticket.team, ticket.assignee) == ("high", sales, agent)
    [run] = RuleRun.objects.filter(ticket=ticket)
    assert run.event == "ticket.created" and run.depth == 0
    sla = TicketSla.objects.get(ticket=ticket)
    assert sla.policy.priority == "high" and sla.first_response_due_at is not None


def test_message_received_rules_see_the_message(django_capture_on_commit_callbacks):
    RuleFactory(
        event=RuleEvent.MESSAGE_RECEIVED,
        conditions=[{"field": "body", "op": "contains", "value": "urgent"}],
        actions=[{"type": "set_priority", "priority": "urgent"}],
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket = receive_whatsapp("+15550001234", "This is URGENT please")
    ticket.refresh_from_db()
    assert ticket.priority == TicketPriority.URGENT


def test_a_rule_does_not_retrigger_itself(django_capture_on_commit_callbacks):
    rule = RuleFactory(
        event=RuleEvent.TICKET_UPDATED,
        conditions=[{"field": "status", "op": "equals", "value": "open"}],
        actions=[
            {"type": "add_note", "body": "Seen"},
            {"type": "set_priority", "priority": "high"},
        ],
    )
    manager = UserFactory(role=Role.MANAGER)
    ticket = TicketFactory()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.change_status(ticket=ticket, actor=manager, status="open")

    assert RuleRun.objects.filter(rule=rule).count() == 1
    ticket.refresh_from_db()
    assert ticket.priority == "high"


def test_two_rules_that_undo_each_other_fire_once_each(django_capture_on_commit_callbacks):
    up = RuleFactory(
        event=RuleEvent.TICKET_UPDATED,
        conditions=[{"field": "priority", "op": "equals", "value": "normal"}],
        actions=[{"type": "set_priority", "priority": "high"}],
    )
    down = RuleFactory(
        event=RuleEvent.TICKET_UPDATED,
        conditions=[{"field": "priority", "op": "equals", "value": "high"}],
        actions=[{"type": "set_priority", "priority": "normal"}],
    )
    manager = UserFactory(role=Role.MANAGER)
    ticket = TicketFactory()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.change_status(ticket=ticket, actor=manager, status="open")

    runs = list(RuleRun.objects.order_by("pk").values_list("rule", "depth"))
    assert runs == [(up.pk, 0), (down.pk, 0)]


def test_a_reply_meets_the_first_response_target(django_capture_on_commit_callbacks):
    agent = UserFactory(role=Role.AGENT)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = receive_whatsapp("+15550009999", "Hello")
    sla = TicketSla.objects.get(ticket=ticket)
    assert sla.first_response_due_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.reply_to_ticket(ticket=ticket, author=agent, body="Hi!")
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.record_inbound_message(
            ticket=ticket, channel=ChannelKind.WHATSAPP, sender="+15550009999", body="Thanks, and?"
        )
    sla.refresh_from_db()
    assert sla.next_response_due_at is not None
