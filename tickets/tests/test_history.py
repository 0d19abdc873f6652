"""A ticket's history: every change is a stored `TicketEvent`, listed by
`GET /api/tickets/<ref>/events/` and shown on the timeline."""

import pytest
from rest_framework.test import APIClient

from tickets import history, merges, services
from tickets.models import HistoryKind, TicketEvent, TicketStatus
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_events_api_lists_status_and_priority_changes(agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    url = f"/api/tickets/{ticket.reference}/"
    assert api(agent).patch(url, {"status": "pending"}, format="json").status_code == 200
    assert api(agent).patch(url, {"priority": "urgent"}, format="json").status_code == 200

    response = api(agent).get(f"{url}events/")

    assert response.status_code == 200
    rows = [(e["kind"], e["before"], e["after"], e["actor"]["username"]) for e in response.json()]
    assert rows == [
        ("status", "open", "pending", "agent"),
        ("priority", "normal", "urgent", "agent"),
    ]
    assert response.json()[0]["created_at"]


def test_events_api_needs_a_visible_ticket(agent, viewer):
    assert api(agent).get("/api/tickets/PD-999999/events/").status_code == 404
    assert APIClient().get("/api/tickets/PD-999999/events/").status_code in (401, 403)


def test_assignment_records_assignee_and_team(agent, manager, team):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    services.assign_ticket(ticket=ticket, actor=manager, assignee=agent, team=team, reason="load")
    rows = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", "before", "after"))
    assert rows == [
        ("assignee", None, {"id": agent.pk, "name": str(agent)}),
        ("team", None, {"id": team.pk, "name": str(team)}),
    ]


def test_merge_is_on_both_tickets(manager):
    source, target = TicketFactory(status=TicketStatus.OPEN), TicketFactory()
    merges.merge_tickets(source=source, target=target, actor=manager)
    for ticket in (source, target):
        event = TicketEvent.objects.get(ticket=ticket)
        assert (event.kind, event.before, event.after) == (
            "merged",
            source.reference,
            target.reference,
        )


def test_timeline_shows_recorded_changes(client, agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    services.change_status(ticket=ticket, actor=agent, status="solved")
    history.record_ticket_event(
        ticket_id=ticket.pk,
        actor_id=None,
        kind=HistoryKind.SLA,
        name="Resolution",
        after="breached",
    )
    client.force_login(agent)
    html = client.get(f"/tickets/{ticket.reference}/timeline/").content.decode()
    assert 'data-history="status"' in html and "<strong>solved</strong>" in html
    assert "SLA breached: Resolution" in html


def test_events_list_in_constant_queries(agent, django_assert_max_num_queries):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    for status in ("pending", "open", "pending", "open"):
        services.change_status(ticket=ticket, actor=agent, status=status)
    with django_assert_max_num_queries(6):
        assert len(api(agent).get(f"/api/tickets/{ticket.reference}/events/").json()) == 4
