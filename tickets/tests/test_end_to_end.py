"""The issue's "done means", over the API with Bearer tokens: an agent filters the inbox, replies
(sandbox delivery), adds a note, hands off to another agent who accepts; a manager escalates."""

import pytest
from rest_framework.test import APIClient

from accounts.services import create_api_token
from tickets.models import DeliveryStatus, TicketStatus
from tickets.tests.factories import CustomerIdentityFactory, TicketFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db


def token_client(user) -> APIClient:
    _, raw = create_api_token(actor=user, owner=user, name="e2e")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_agent_flow_and_manager_escalation_with_tokens(
    agent, other_agent, manager, django_capture_on_commit_callbacks
):
    identity = CustomerIdentityFactory(value="printbuyer@example.com")
    ticket = TicketFactory(status=TicketStatus.NEW, customer=identity.customer)
    TicketMessageFactory(ticket=ticket, body="Where are my business cards?")
    other = TicketFactory(status=TicketStatus.OPEN)
    ana, ben, boss = token_client(agent), token_client(other_agent), token_client(manager)
    ref = ticket.reference

    found = ana.get("/api/tickets/", {"view": "unassigned", "q": "business cards"}).json()
    assert [t["reference"] for t in found["results"]] == [ref]
    assert ana.post(f"/api/tickets/{ref}/assign/", {"assignee": agent.pk}).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        reply = ana.post(f"/api/tickets/{ref}/messages/", {"body": "Shipped today!"})
    assert reply.status_code == 201
    messages = ana.get(f"/api/tickets/{ref}/messages/").json()
    outbound = messages[-1]
    # No SendGrid credentials in tests: delivered to the sandbox, never silently dropped.
    assert outbound["is_sandbox"] is True
    assert outbound["delivery_status"] != DeliveryStatus.FAILED
    assert ana.post(f"/api/tickets/{ref}/notes/", {"body": "Tracking in PERP"}).status_code == 201

    handoff = ana.post(
        f"/api/tickets/{ref}/handoffs/",
        {"to_agent": other_agent.pk, "reason": "Shift ends", "context_summary": "Shipped"},
    ).json()
    mine = ben.get("/api/tickets/", {"view": "handoffs"}).json()["results"]
    assert [t["reference"] for t in mine] == [ref]
    accepted = ben.post(f"/api/tickets/{ref}/handoffs/{handoff['id']}/accept/")
    assert accepted.status_code == 200
    assert ben.get(f"/api/tickets/{ref}/").json()["assignee"]["id"] == other_agent.pk

    escalated = boss.post(
        f"/api/tickets/{other.reference}/escalate/",
        {"reason": "Wedding order, deadline Friday", "to_user": manager.pk, "priority": "urgent"},
    )
    assert escalated.status_code == 201
    detail = boss.get(f"/api/tickets/{other.reference}/").json()
    assert detail["is_escalated"] is True and detail["priority"] == "urgent"
    assert ana.get("/api/tickets/", {"view": "escalated"}).json()["results"][0]["reference"] == (
        other.reference
    )
