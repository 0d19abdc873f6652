"""The ticket's SLA/automation panel (htmx partial), its API, the demo rule and admin form."""

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import Role
from accounts.tests.factories import UserFactory
from automation.demo import VIP_WHATSAPP_RULE, seed_automation_demo
from automation.models import Rule, RuleRun, SlaPolicy
from automation.sla import refresh_ticket_sla
from automation.tests.factories import SlaPolicyFactory
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client):
    client.force_login(UserFactory(role=Role.AGENT))
    return client


@pytest.fixture
def ticket_with_sla():
    SlaPolicy.objects.all().delete()
    SlaPolicyFactory(priority="normal", name="Normal (office)")
    with time_machine.travel("2026-11-23 10:00:00+00:00", tick=False):
        ticket = TicketFactory()
        refresh_ticket_sla(ticket_id=ticket.pk)
    RuleRun.objects.create(
        rule_name="VIP WhatsApp",
        ticket=ticket,
        event="ticket.created",
        performed=["Priority set to high"],
    )
    return ticket


def test_panel_shows_deadlines_for_the_countdown(agent_client, ticket_with_sla):
    with time_machine.travel("2026-11-23 10:20:00+00:00", tick=False):
        response = agent_client.get(f"/tickets/{ticket_with_sla.reference}/sla/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-sla-due="2026-11-23T11:00:00+00:00"' in html
    assert "First response" in html and "Resolution" in html
    assert "Policy: Normal (office)" in html
    assert "<script" not in html


def test_fired_rules_are_on_the_ticket_timeline(agent_client, ticket_with_sla):
    html = agent_client.get(f"/tickets/{ticket_with_sla.reference}/timeline/").content.decode()
    assert (
        "Automation: rule <strong>VIP WhatsApp</strong> fired on ticket.created — "
        "Priority set to high" in html
    )


def test_panel_marks_overdue_deadlines(agent_client, ticket_with_sla):
    with time_machine.travel("2026-11-23 12:00:00+00:00", tick=False):
        html = agent_client.get(f"/tickets/{ticket_with_sla.reference}/sla/").content.decode()
    assert "is-breached" in html and "overdue since" in html


def test_api_lists_deadlines_and_rule_runs(agent_client, ticket_with_sla):
    with time_machine.travel("2026-11-23 10:20:00+00:00", tick=False):
        data = agent_client.get(f"/api/tickets/{ticket_with_sla.reference}/sla/").json()
    assert data["policy"] == "Normal (office)"
    assert [d["metric"] for d in data["deadlines"]] == ["first_response", "resolution"]
    assert data["deadlines"][0]["due_at"] == "2026-11-23T11:00:00Z"
    assert data["rule_runs"][0]["performed"] == ["Priority set to high"]


def test_demo_rule_is_seeded_once_and_valid(sales):
    first = seed_automation_demo()
    assert seed_automation_demo() == first
    assert Rule.objects.filter(name=VIP_WHATSAPP_RULE).count() == 1


def test_admin_rule_form_reports_bad_json_items(client):
    client.force_login(UserFactory(role=Role.ADMIN))
    response = client.post(
        "/admin/automation/rule/add/",
        {
            "name": "Broken",
            "event": "ticket.created",
            "conditions": '[{"field": "colour", "op": "equals", "value": "red"}]',
            "actions": '[{"type": "set_priority", "priority": "high"}]',
            "position": 1,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "Item 1: unknown field &#x27;colour&#x27;." in response.content.decode()
    assert not Rule.objects.filter(name="Broken").exists()


def test_admin_creates_the_issue_rule(client, sales):
    client.force_login(UserFactory(role=Role.ADMIN))
    response = client.post(
        "/admin/automation/rule/add/",
        {
            "name": "VIP WhatsApp",
            "event": "ticket.created",
            "conditions": '[{"field": "channel", "op": "equals", "value": "whatsapp"},'
            ' {"field": "customer_is_vip", "op": "equals", "value": true}]',
            "actions": '[{"type": "set_priority", "priority": "high"},'
            ' {"type": "assign_team", "team": "sales"}]',
            "position": 1,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Rule.objects.get(name="VIP WhatsApp").actions[1] == {
        "type": "assign_team",
        "team": "sales",
    }


def test_run_sla_checks_command(capsys):
    call_command("run_sla_checks")
    assert "breached=0" in capsys.readouterr().out
