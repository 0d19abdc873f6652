"""One SLA clock: the policy engine's deadlines are what the inbox, the ticket header, filters,
reports and the API show (`Ticket.due_at`); the settings target is only the fallback policy."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from automation.models import SlaPolicy
from automation.sla import refresh_ticket_sla
from automation.tests.factories import SlaPolicyFactory
from tickets import services as ticket_services
from tickets.models import TicketPriority
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db
MONDAY_10 = "2026-11-23 10:00:00+00:00"
DUE = re.compile(r'data-sla-due="([^"]+)"[^>]*>([^<]+)<')


@pytest.fixture
def office_policy():
    SlaPolicy.objects.all().delete()
    return SlaPolicyFactory(priority="normal", name="Normal (office)")


@pytest.fixture
def agent():
    return UserFactory(role=Role.AGENT)


def test_ticket_due_at_is_the_policys_soonest_deadline(office_policy):
    with time_machine.travel("2026-11-27 16:30:00+00:00", tick=False):  # Friday afternoon
        ticket = TicketFactory()
        sla = refresh_ticket_sla(ticket_id=ticket.pk)
    ticket.refresh_from_db()
    # One business hour: the last 30 minutes of Friday, then Monday morning (not wall clock).
    assert ticket.due_at == sla.first_response_due_at
    assert ticket.due_at.isoformat() == "2026-11-30T09:30:00+00:00"


def test_the_settings_target_is_the_fallback_policy(
    settings, agent, django_capture_on_commit_callbacks
):
    SlaPolicy.objects.all().delete()
    customer = ticket_services.find_or_create_customer(kind="email", value="sla@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_services.open_ticket(customer=customer, channel="email", subject="x")
    ticket.refresh_from_db()
    minutes = settings.TICKET_SLA_MINUTES["normal"]
    assert ticket.due_at == ticket.created_at + timedelta(minutes=minutes)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.change_priority(ticket=ticket, actor=agent, priority=TicketPriority.URGENT)
    ticket.refresh_from_db()
    assert ticket.due_at == ticket.created_at + timedelta(
        minutes=settings.TICKET_SLA_MINUTES["urgent"]
    )
    assert ticket.sla.policy is None


def test_inbox_label_equals_the_sla_panels_due_time(client, agent, office_policy):
    with time_machine.travel(MONDAY_10, tick=False):
        ticket = TicketFactory(status="open")
        refresh_ticket_sla(ticket_id=ticket.pk)
    client.force_login(agent)
    with time_machine.travel("2026-11-23 10:20:00+00:00", tick=False):
        inbox = client.get("/tickets/").content.decode()
        panel = client.get(f"/tickets/{ticket.reference}/sla/").content.decode()
        page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    row = inbox[inbox.index(f'id="ticket-row-{ticket.reference}"') :]
    inbox_due, inbox_label = DUE.search(row).groups()
    panel_due, panel_label = DUE.search(panel).groups()
    assert inbox_due == panel_due == "2026-11-23T11:00:00+00:00"
    assert inbox_label == panel_label == "due Mon 23 Nov, 11:00"
    assert 'data-sla-due="2026-11-23T11:00:00+00:00"' in page
    assert "No SLA policy applies" not in page


def test_panel_names_the_fallback_policy(client, agent):
    SlaPolicy.objects.all().delete()
    ticket = TicketFactory(status="open")
    refresh_ticket_sla(ticket_id=ticket.pk)
    client.force_login(agent)
    html = client.get(f"/tickets/{ticket.reference}/sla/").content.decode()
    assert "Default target (around the clock)" in html


def test_breaching_filter_reads_the_clock(client, agent, office_policy):
    with time_machine.travel(MONDAY_10, tick=False):
        soon, later = TicketFactory(status="open"), TicketFactory(status="open", priority="low")
        for ticket in (soon, later):
            refresh_ticket_sla(ticket_id=ticket.pk)
    client.force_login(agent)
    with time_machine.travel("2026-11-23 10:20:00+00:00", tick=False):
        data = client.get("/api/tickets/", {"sla": "breaching"}).json()
        overdue = client.get("/api/tickets/", {"sla": "overdue"}).json()
    assert [t["reference"] for t in data["results"]] == [soon.reference]
    assert data["results"][0]["due_at"] == "2026-11-23T11:00:00Z"
    assert overdue["results"] == []


def test_a_solved_ticket_keeps_its_resolution_deadline_for_reports(agent, office_policy):
    with time_machine.travel(MONDAY_10, tick=False):
        ticket = TicketFactory(status="open")
        sla = refresh_ticket_sla(ticket_id=ticket.pk)
        ticket_services.change_status(ticket=ticket, actor=agent, status="solved")
        refresh_ticket_sla(ticket_id=ticket.pk)
    ticket.refresh_from_db()
    assert ticket.due_at == sla.resolution_due_at
    assert timezone.now() > ticket.due_at
