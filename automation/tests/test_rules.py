"""Rule matching and actions per event, ordering, stop-processing, validation, round-robin."""

import pytest
import time_machine
from django.core.exceptions import ValidationError

from accounts.models import Role
from accounts.services import get_automation_actor
from accounts.tests.factories import TeamFactory, UserFactory
from automation.models import RuleEvent, RuleRun
from automation.services import pick_round_robin_agent, run_rules
from automation.tests.factories import RuleFactory
from comms.models import ChannelMessage
from integrations.context_refresh import refresh_customer_context
from tickets.models import (
    ChannelKind,
    Escalation,
    IdentityKind,
    InternalNote,
    MessageDirection,
    SavedReply,
    TicketMessage,
)
from tickets.selectors import list_assignable_staff
from tickets.tests.factories import CustomerIdentityFactory, TicketFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db

VIP_WHATSAPP = [
    {"field": "channel", "op": "equals", "value": "whatsapp"},
    {"field": "customer_is_vip", "op": "equals", "value": True},
]


def whatsapp_ticket(number: str, **kwargs):
    identity = CustomerIdentityFactory(kind=IdentityKind.WHATSAPP, value=number)
    return TicketFactory(customer=identity.customer, channel=ChannelKind.WHATSAPP, **kwargs)


def test_whatsapp_from_a_vip_gets_high_priority_and_a_sales_agent(fake_perp, sales, make_agent):
    agent = make_agent(team=sales)
    RuleFactory(
        name="VIP WhatsApp",
        event=RuleEvent.TICKET_CREATED,
        conditions=VIP_WHATSAPP,
        actions=[
            {"type": "set_priority", "priority": "high"},
            {"type": "assign_team", "team": "sales", "round_robin": True},
        ],
    )
    ticket = whatsapp_ticket("+447700900004")  # demo customer 4 has a Gold-tier wallet

    result = run_rules(event=RuleEvent.TICKET_CREATED, ticket_id=ticket.pk)

    ticket.refresh_from_db()
    assert (ticket.priority, ticket.team, ticket.assignee) == ("high", sales, agent)
    [run] = result.runs
    assert run.rule_name == "VIP WhatsApp"
    assert run.performed == ["Priority set to high", f"Assigned to Sales ({agent})"]
    assert run.error == ""


def test_an_unknown_customer_is_not_vip(fake_perp, sales):
    RuleFactory(conditions=VIP_WHATSAPP)
    ticket = whatsapp_ticket("+15550001111")

    assert run_rules(event=RuleEvent.TICKET_CREATED, ticket_id=ticket.pk).runs == []
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


def test_a_down_provider_counts_as_not_vip_without_failing(fake_perp):
    fake_perp.is_down = True
    RuleFactory(conditions=VIP_WHATSAPP)
    ticket = whatsapp_ticket("+447700900004")

    assert run_rules(event=RuleEvent.TICKET_CREATED, ticket_id=ticket.pk).runs == []


def test_a_fresh_stored_context_answers_without_asking_perp(fake_perp):
    RuleFactory(conditions=VIP_WHATSAPP)
    ticket = whatsapp_ticket("+447700900004")
    refresh_customer_context(customer_id=ticket.customer_id)
    asked = len(fake_perp.requests)

    assert len(run_rules(event=RuleEvent.TICKET_CREATED, ticket_id=ticket.pk).runs) == 1
    assert len(fake_perp.requests) == asked


def test_vip_tier_condition(fake_perp):
    # Demo customer 4's wallet tier is TIERS[4 % 3] = Gold.
    RuleFactory(conditions=[{"field": "customer_vip_tier", "op": "in", "value": ["gold"]}])
    ticket = whatsapp_ticket("+447700900004")
    assert len(run_rules(event=RuleEvent.TICKET_CREATED, ticket_id=ticket.pk).runs) == 1


@pytest.mark.parametrize(
    ("condition", "matches"),
    [
        ({"field": "subject", "op": "contains", "value": "REFUND"}, True),
        ({"field": "subject", "op": "not_contains", "value": "refund"}, False),
        ({"field": "body", "op": "contains", "value": "broken box"}, True),
        ({"field": "status", "op": "in", "value": ["new", "open"]}, True),
        ({"field": "priority", "op": "not_equals", "value": "normal"}, False),
        ({"field": "assignee", "op": "is_unset"}, True),
        ({"field": "team", "op": "is_set"}, False),
        ({"field": "customer_identity", "op": "contains", "value": "@example.org"}, True),
        ({"field": "channel", "op": "equals", "value": "sms"}, False),
    ],
)
def test_conditions(condition, matches):
    identity = CustomerIdentityFactory(kind=IdentityKind.EMAIL, value="jo@example.org")
    ticket = TicketFactory(subject="Refund for order", customer=identity.customer)
    TicketMessageFactory(ticket=ticket, body="It arrived in a broken box")
    RuleFactory(event=RuleEvent.MESSAGE_RECEIVED, conditions=[condition])

    runs = run_rules(event=RuleEvent.MESSAGE_RECEIVED, ticket_id=ticket.pk).runs
    assert bool(runs) is matches


def test_business_hours_condition_follows_the_default_calendar():
    RuleFactory(conditions=[{"field": "in_business_hours", "op": "equals", "value": False}])
    ticket = TicketFactory()
    with time_machine.travel("2026-11-28 12:00:00+00:00", tick=False):  # a Saturday
        assert len(run_rules(event=RuleEvent.TICKET_CREATED, ticket_id=ticket.pk).runs) == 1
    with time_machine.travel("2026-11-30 10:00:00+00:00", tick=False):  # Monday morning
        assert run_rules(event=RuleEvent.TICKET_CREATED, ticket_id=ticket.pk).runs == []


def test_rules_run_in_order_and_stop_processing_ends_the_run():
    first = RuleFactory(position=1, stop_processing=True)
    RuleFactory(position=2, actions=[{"type": "set_priority", "priority": "low"}])
    RuleFactory(position=0, is_active=False, actions=[{"type": "set_status", "status": "pending"}])
    ticket = TicketFactory()

    runs = run_rules(event=RuleEvent.TICKET_CREATED, ticket_id=ticket.pk).runs

    assert [r.rule for r in runs] == [first]
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.status) == ("high", "new")


def test_rules_only_run_for_their_event():
    RuleFactory(event=RuleEvent.MESSAGE_RECEIVED)
    ticket = TicketFactory()
    assert run_rules(event=RuleEvent.TICKET_CREATED, ticket_id=ticket.pk).runs == []


def test_note_saved_reply_channel_notice_status_and_escalation(manager):
    production = TeamFactory(name="Production", slug="production")
    production.members.add(manager)
    SavedReply.objects.create(
        title="Thanks", body="Hi {{customer_first_name}}, on it: {{ticket_reference}}"
    )
    RuleFactory(
        name="Everything",
        actions=[
            {"type": "add_note", "body": "Auto-triaged {reference}"},
            {"type": "send_saved_reply", "saved_reply": "Thanks"},
            {"type": "notify_channel", "channel": "sales", "message": "New: {subject}"},
            {"type": "set_status", "status": "pending"},
            {"type": "escalate", "team": "production", "reason": "Rush job"},
        ],
    )
    ticket = TicketFactory(subject="Rush banners", customer__name="Jo Baker")

    [run] = run_rules(event=RuleEvent.TICKET_CREATED, ticket_id=ticket.pk).runs

    assert run.error == "" and len(run.performed) == 5
    actor = get_automation_actor()
    note = InternalNote.objects.get(ticket=ticket)
    assert (note.author, note.body) == (actor, f"Auto-triaged {ticket.reference}")
    reply = TicketMessage.objects.get(ticket=ticket, direction=MessageDirection.OUTBOUND)
    assert reply.is_automated and reply.body == f"Hi Jo, on it: {ticket.reference}"
    post = ChannelMessage.objects.get(channel__slug="sales")
    assert post.author == actor and "New: Rush banners" in post.body
    escalation = Escalation.objects.get(ticket=ticket)
    assert (escalation.to_team, escalation.reason) == (production, "Rush job")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.is_escalated) == ("pending", True)


def test_the_automation_account_is_not_assignable_staff():
    actor = get_automation_actor()
    assert actor not in list_assignable_staff()
    assert not actor.has_usable_password()


def test_a_failing_action_is_logged_and_stops_the_rule():
    agent = UserFactory(role=Role.AGENT)
    RuleFactory(
        actions=[
            {"type": "assign_agent", "user": agent.username},
            {"type": "set_priority", "priority": "urgent"},
        ]
    )
    agent.is_active = False
    agent.save()
    ticket = TicketFactory()

    [run] = run_rules(event=RuleEvent.TICKET_CREATED, ticket_id=ticket.pk).runs

    assert run.performed == [] and run.error.startswith("assign_agent:")
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


def test_skipped_rules_and_depth_cap():
    rule = RuleFactory()
    ticket = TicketFactory()
    assert (
        run_rules(event="ticket.created", ticket_id=ticket.pk, skip_rule_ids=[rule.pk]).runs == []
    )
    capped = run_rules(event="ticket.created", ticket_id=ticket.pk, depth=4)
    assert capped.skipped_for_depth and not RuleRun.objects.exists()


@pytest.mark.parametrize(
    ("conditions", "actions", "message"),
    [
        ([{"field": "colour", "op": "equals", "value": "x"}], None, "unknown field"),
        ([{"field": "channel", "op": "contains", "value": "x"}], None, "supports"),
        ([{"field": "channel", "op": "equals", "value": "fax"}], None, "not one of"),
        ([{"field": "channel", "op": "in", "value": "sms"}], None, "non-empty list"),
        ([], [], "non-empty JSON list"),
        ([], [{"type": "teleport"}], "type is one of"),
        ([], [{"type": "assign_agent", "user": "nobody"}], "no user 'nobody'"),
        ([], [{"type": "set_priority"}], "needs 'priority'"),
        ([], [{"type": "escalate", "reason": "x"}], "needs a 'team' or a 'user'"),
        ([], [{"type": "notify_channel", "channel": "sales", "colour": 1}], "unknown parameter"),
    ],
)
def test_invalid_rules_are_refused_with_a_clear_message(conditions, actions, message):
    rule = RuleFactory.build(
        conditions=conditions,
        actions=actions if actions is not None else [{"type": "set_status", "status": "open"}],
    )
    with pytest.raises(ValidationError) as caught:
        rule.full_clean()
    assert message in str(caught.value)


def test_round_robin_is_fair_and_respects_presence_and_capacity(sales, make_agent):
    agents = [make_agent(team=sales) for _ in range(3)]
    make_agent(team=sales, online=False)
    full = make_agent(team=sales, max_open_tickets=1)
    TicketFactory(assignee=full, status="open")
    make_agent()  # online, not in Sales
    RuleFactory(actions=[{"type": "assign_team", "team": "sales", "round_robin": True}])

    assigned = []
    for _ in range(6):
        ticket = TicketFactory()
        run_rules(event=RuleEvent.TICKET_CREATED, ticket_id=ticket.pk)
        ticket.refresh_from_db()
        assigned.append(ticket.assignee)

    assert assigned == agents + agents


def test_round_robin_with_nobody_available_leaves_the_ticket_with_the_team(sales, make_agent):
    make_agent(team=sales, online=False)
    assert pick_round_robin_agent(team=sales) is None


def test_saved_reply_on_a_closed_whatsapp_window_is_skipped_not_sent():
    SavedReply.objects.create(title="Thanks", body="On it!")
    RuleFactory(name="Ack", actions=[{"type": "send_saved_reply", "saved_reply": "Thanks"}])
    ticket = whatsapp_ticket("+447700900123")  # the customer never wrote: the window is closed

    [run] = run_rules(event=RuleEvent.TICKET_CREATED, ticket_id=ticket.pk).runs

    assert run.performed == ["Skipped saved reply “Thanks”: whatsapp_window_closed"]
    reply = TicketMessage.objects.get(ticket=ticket, direction=MessageDirection.OUTBOUND)
    assert reply.delivery_status == "skipped" and "24 hours" in reply.error_message
