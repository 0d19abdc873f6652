"""Staff pages for automation rules (issue 23): list with run stats, create/edit with the model's
validation, activate/deactivate, the dry run against a ticket, recent runs, permissions."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditLogEntry, Role
from accounts.tests.factories import UserFactory
from automation.models import Rule, RuleEvent, RuleRun
from automation.tests.factories import RuleFactory
from tickets.models import InternalNote, TicketEvent, TicketPriority, TicketStatus
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

VALID_RULE = {
    "name": "Rush jobs",
    "description": "",
    "event": RuleEvent.TICKET_CREATED,
    "conditions": '[{"field": "subject", "op": "contains", "value": "rush"}]',
    "actions": '[{"type": "set_priority", "priority": "urgent"}]',
    "position": "10",
    "is_active": "on",
}


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def agent_client(client):
    client.force_login(UserFactory(role=Role.AGENT))
    return client


def test_list_shows_event_state_last_run_and_runs_in_the_last_7_days(manager_client):
    rule = RuleFactory(name="VIP WhatsApp", event=RuleEvent.MESSAGE_RECEIVED)
    RuleFactory(name="Old rule", is_active=False)
    ticket = TicketFactory()
    with time_machine.travel("2026-11-01 10:00:00+00:00", tick=False):
        RuleRun.objects.create(rule=rule, rule_name=rule.name, ticket=ticket, event="x")
    with time_machine.travel("2026-11-20 10:00:00+00:00", tick=False):
        for _ in range(2):
            RuleRun.objects.create(rule=rule, rule_name=rule.name, ticket=ticket, event="x")
    with time_machine.travel("2026-11-23 10:00:00+00:00", tick=False):
        response = manager_client.get("/automation/rules/")
    html = response.content.decode()
    assert response.status_code == 200
    row = re.search(rf'<tr id="rule-row-{rule.pk}".*?</tr>', html, re.S).group(0)
    assert "Customer message received" in row
    assert 'datetime="2026-11-20T10:00:00+00:00"' in row
    assert "<td>2</td>" in row  # the November 1 run is older than 7 days
    assert "Inactive" in html and "Old rule" in html
    assert f"/tickets/{ticket.reference}/" in html  # recent runs link their ticket


def test_create_saves_a_valid_rule_and_audits_it(manager_client, manager):
    response = manager_client.post("/automation/rules/new/", VALID_RULE)
    rule = Rule.objects.get(name="Rush jobs")
    assert response.status_code == 302
    assert response["Location"] == f"/automation/rules/{rule.pk}/"
    assert rule.conditions == [{"field": "subject", "op": "contains", "value": "rush"}]
    assert rule.actions == [{"type": "set_priority", "priority": "urgent"}]
    assert AuditLogEntry.objects.filter(
        action="automation.rule_created", actor=manager, target_id=str(rule.pk)
    ).exists()


def test_create_shows_the_model_validation_per_item_and_saves_nothing(manager_client):
    data = {
        **VALID_RULE,
        "conditions": '[{"field": "subject", "op": "contains", "value": "rush"},'
        ' {"field": "colour", "op": "equals", "value": "red"}]',
        "actions": '[{"type": "assign_agent", "user": "nobody-here"}]',
    }
    response = manager_client.post("/automation/rules/new/", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Item 2: unknown field &#x27;colour&#x27;." in html
    assert "Item 1: no user &#x27;nobody-here&#x27;." in html
    assert not Rule.objects.exists()


def test_edit_updates_the_rule_and_rejects_invalid_json(manager_client):
    rule = RuleFactory(name="Before")
    response = manager_client.post(f"/automation/rules/{rule.pk}/", {**VALID_RULE, "name": "After"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.name == "After"

    response = manager_client.post(
        f"/automation/rules/{rule.pk}/", {**VALID_RULE, "actions": "[not json"}
    )
    assert response.status_code == 200
    assert 'id="actions-errors"' in response.content.decode()
    rule.refresh_from_db()
    assert rule.actions == [{"type": "set_priority", "priority": "urgent"}]


def test_edit_page_lists_the_rules_recent_runs_and_the_test_form(manager_client):
    rule = RuleFactory()
    other = RuleFactory()
    ticket = TicketFactory()
    RuleRun.objects.create(
        rule=rule,
        rule_name=rule.name,
        ticket=ticket,
        event="ticket.created",
        performed=["Priority set to high"],
    )
    RuleRun.objects.create(
        rule=other, rule_name=other.name, ticket=ticket, event="ticket.created", error="boom"
    )
    html = manager_client.get(f"/automation/rules/{rule.pk}/").content.decode()
    assert "Priority set to high" in html
    assert "boom" not in html
    assert f'hx-post="/automation/rules/{rule.pk}/test/"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_deactivate_and_activate(manager_client):
    rule = RuleFactory(is_active=True)
    assert manager_client.post(f"/automation/rules/{rule.pk}/deactivate/").status_code == 302
    rule.refresh_from_db()
    assert rule.is_active is False
    assert manager_client.post(f"/automation/rules/{rule.pk}/activate/").status_code == 302
    rule.refresh_from_db()
    assert rule.is_active is True


def test_activate_is_post_only(manager_client):
    rule = RuleFactory(is_active=False)
    assert manager_client.get(f"/automation/rules/{rule.pk}/activate/").status_code == 405
    rule.refresh_from_db()
    assert rule.is_active is False


def test_dry_run_shows_conditions_and_actions_and_writes_nothing(manager_client):
    ticket = TicketFactory(
        subject="RUSH: banners for Friday",
        status=TicketStatus.OPEN,
        priority=TicketPriority.NORMAL,
    )
    rule = RuleFactory(
        conditions=[
            {"field": "subject", "op": "contains", "value": "rush"},
            {"field": "channel", "op": "in", "value": ["email", "sms"]},
            {"field": "assignee", "op": "is_unset"},
        ],
        actions=[
            {"type": "set_priority", "priority": "urgent"},
            {"type": "add_note", "body": "Rush job {reference}"},
            {"type": "add_tags", "tags": ["rush"]},
        ],
    )
    before = {
        "events": TicketEvent.objects.count(),
        "notes": InternalNote.objects.count(),
        "ticket": TicketFactory._meta.model.objects.filter(pk=ticket.pk).values().get(),
    }
    # The first request of a session records the signed-in device; make it before measuring.
    manager_client.get(f"/automation/rules/{rule.pk}/")
    with CaptureQueriesContext(connection) as queries:
        response = manager_client.post(
            f"/automation/rules/{rule.pk}/test/", {"reference": ticket.reference.lower()}
        )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<li class="holds">holds:') == 3
    assert "Set priority to urgent" in html
    assert f"Add internal note: Rush job {ticket.reference}" in html
    assert "Add tags rush" in html
    writes = [q["sql"] for q in queries if re.match(r"\s*(INSERT|UPDATE|DELETE)", q["sql"])]
    assert writes == []
    assert TicketEvent.objects.count() == before["events"]
    assert InternalNote.objects.count() == before["notes"]
    assert not RuleRun.objects.exists()
    after = TicketFactory._meta.model.objects.filter(pk=ticket.pk).values().get()
    assert after == before["ticket"]
    assert not ticket.tags.exists()


def test_dry_run_names_the_condition_that_fails(manager_client):
    ticket = TicketFactory(subject="Invoice question")
    rule = RuleFactory(
        conditions=[
            {"field": "channel", "op": "equals", "value": "email"},
            {"field": "subject", "op": "contains", "value": "rush"},
        ]
    )
    html = manager_client.post(
        f"/automation/rules/{rule.pk}/test/", {"reference": ticket.reference}
    ).content.decode()
    assert '<li class="holds">holds: <code>channel equals email</code>' in html
    assert '<li class="fails">does not hold: <code>subject contains rush</code>' in html
    assert "Does not match: no action would run." in html
    assert "Set priority" not in html


@pytest.mark.parametrize(
    ("rule_kwargs", "ticket_kwargs", "reason"),
    [
        ({"is_active": False}, {}, "The rule is inactive"),
        ({}, {"status": TicketStatus.CLOSED}, "Rules do not run on closed tickets."),
    ],
)
def test_dry_run_says_why_a_matching_rule_would_not_run(
    manager_client, rule_kwargs, ticket_kwargs, reason
):
    rule = RuleFactory(**rule_kwargs)
    ticket = TicketFactory(**ticket_kwargs)
    html = manager_client.post(
        f"/automation/rules/{rule.pk}/test/", {"reference": ticket.reference}
    ).content.decode()
    assert f"Would not run: {reason}" in html
    assert "Set priority" not in html


def test_dry_run_with_an_unknown_ticket_says_so(manager_client):
    rule = RuleFactory()
    response = manager_client.post(f"/automation/rules/{rule.pk}/test/", {"reference": "PD-0"})
    assert response.status_code == 200
    assert "No ticket “PD-0”." in response.content.decode()


def test_unknown_rule_is_404(manager_client):
    assert manager_client.get("/automation/rules/999999/").status_code == 404
    response = manager_client.post("/automation/rules/999999/test/", {"reference": "PD-1"})
    assert response.status_code == 404


def test_agents_get_403_everywhere_and_change_nothing(agent_client):
    rule = RuleFactory(is_active=True)
    ticket = TicketFactory()
    assert agent_client.get("/automation/rules/").status_code == 403
    assert agent_client.get(f"/automation/rules/{rule.pk}/").status_code == 403
    assert agent_client.post("/automation/rules/new/", VALID_RULE).status_code == 403
    assert agent_client.post(f"/automation/rules/{rule.pk}/deactivate/").status_code == 403
    response = agent_client.post(
        f"/automation/rules/{rule.pk}/test/", {"reference": ticket.reference}
    )
    assert response.status_code == 403
    rule.refresh_from_db()
    assert rule.is_active is True
    assert Rule.objects.count() == 1


def test_posts_need_csrf(manager):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    rule = RuleFactory(is_active=True)
    assert client.post(f"/automation/rules/{rule.pk}/deactivate/").status_code == 403
    rule.refresh_from_db()
    assert rule.is_active is True


def test_navigation_links_automation_for_managers_only(manager_client, client):
    assert 'href="/automation/rules/"' in manager_client.get("/").content.decode()
    client.force_login(UserFactory(role=Role.AGENT))
    assert 'href="/automation/rules/"' not in client.get("/").content.decode()


def test_recent_runs_are_ordered_newest_first(manager_client):
    rule = RuleFactory()
    ticket = TicketFactory()
    start = datetime.datetime(2026, 11, 20, 9, tzinfo=datetime.UTC)
    for hours, name in ((0, "first-run"), (2, "second-run")):
        with time_machine.travel(start + datetime.timedelta(hours=hours), tick=False):
            RuleRun.objects.create(rule=rule, rule_name=name, ticket=ticket, event="x")
    html = manager_client.get("/automation/rules/").content.decode()
    assert html.index("second-run") < html.index("first-run")
