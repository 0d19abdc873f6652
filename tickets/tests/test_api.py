import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import UserFactory
from tickets.models import (
    AgentHandoff,
    HandoffState,
    IdentityKind,
    InternalNote,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from tickets.saved_replies import create_saved_reply
from tickets.tests.factories import CustomerIdentityFactory, TicketFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_list_filters_searches_and_paginates_with_a_cursor(agent):
    identity = CustomerIdentityFactory(value="jane@example.com")
    wanted = TicketFactory(status=TicketStatus.OPEN, customer=identity.customer)
    for _ in range(3):
        TicketFactory(status=TicketStatus.OPEN)
    response = api(agent).get("/api/tickets/", {"q": "jane@example", "view": "open"})
    assert response.status_code == 200
    assert [t["reference"] for t in response.json()["results"]] == [wanted.reference]

    first = api(agent).get("/api/tickets/", {"limit": 2}).json()
    assert len(first["results"]) == 2 and first["next_cursor"]
    second = api(agent).get("/api/tickets/", {"limit": 2, "cursor": first["next_cursor"]}).json()
    seen = [t["reference"] for t in first["results"] + second["results"]]
    assert len(seen) == len(set(seen)) == 4
    assert second["next_cursor"] is None


def test_list_rejects_bad_filters_with_field_messages(agent):
    response = api(agent).get("/api/tickets/", {"status": "lost", "limit": 0})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"status", "limit"}
    response = api(agent).get("/api/tickets/", {"cursor": "garbage!"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


def test_anonymous_is_refused(db):
    assert api().get("/api/tickets/").status_code in (401, 403)


def test_create_ticket_for_a_new_address_with_first_reply(agent):
    response = api(agent).post(
        "/api/tickets/",
        {
            "channel": "email",
            "subject": "Quote for 500 flyers",
            "identity_value": "New.Person@Example.com",
            "customer_name": "New Person",
            "body": "Here is your quote",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    ticket = Ticket.objects.get(reference=response.json()["reference"])
    assert ticket.customer.identities.get().value == "new.person@example.com"
    assert ticket.messages.get().body == "Here is your quote"
    assert ticket.first_response_at is not None


def test_create_ticket_with_a_bad_address_is_a_field_error(agent):
    response = api(agent).post(
        "/api/tickets/",
        {"channel": "sms", "subject": "x", "identity_value": "07700"},
        format="json",
    )
    assert response.status_code == 400
    assert "identity_value" in response.json()["fields"]


def test_viewer_cannot_create(viewer):
    response = api(viewer).post(
        "/api/tickets/",
        {"channel": "email", "subject": "x", "identity_value": "a@b.co"},
        format="json",
    )
    assert response.status_code == 403


def test_retrieve_unknown_ticket_is_404(agent):
    assert api(agent).get("/api/tickets/PD-999999/").status_code == 404


def test_patch_status_priority_and_illegal_transition(agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    url = f"/api/tickets/{ticket.reference}/"
    response = api(agent).patch(url, {"status": "pending", "priority": "high"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert response.json()["priority"] == "high"
    response = api(agent).patch(url, {"status": "closed"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"


def test_patch_is_all_or_nothing(agent, other_agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    response = api(agent).patch(
        f"/api/tickets/{ticket.reference}/",
        {"priority": "urgent", "assignee": other_agent.pk},
        format="json",
    )
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.priority == "normal" and ticket.assignee is None


def test_reply_and_list_messages(agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    TicketMessageFactory(ticket=ticket, body_html="<p>hi<script>x()</script></p>")
    url = f"/api/tickets/{ticket.reference}/messages/"
    response = api(agent).post(url, {"body": "Thanks!", "set_status": "pending"}, format="json")
    assert response.status_code == 201
    assert response.json()["delivery_status"] in ("queued", "sent", "delivered")
    listing = api(agent).get(url).json()
    assert [m["direction"] for m in listing] == ["in", "out"]
    assert "<script" not in listing[0]["body_html"]
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.PENDING


def test_empty_reply_is_400_with_field(agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    response = api(agent).post(
        f"/api/tickets/{ticket.reference}/messages/", {"body": ""}, format="json"
    )
    assert response.status_code == 400
    assert "body" in response.json()["fields"]


def test_viewer_can_read_but_not_reply_or_note(viewer):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    client = api(viewer)
    assert client.get(f"/api/tickets/{ticket.reference}/").status_code == 200
    assert client.get(f"/api/tickets/{ticket.reference}/messages/").status_code == 200
    body = {"body": "x"}
    ref = ticket.reference
    assert client.post(f"/api/tickets/{ref}/messages/", body, format="json").status_code == 403
    assert client.post(f"/api/tickets/{ref}/notes/", body, format="json").status_code == 403
    assert not TicketMessage.objects.exists() and not InternalNote.objects.exists()


def test_notes(agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    url = f"/api/tickets/{ticket.reference}/notes/"
    assert api(agent).post(url, {"body": "VIP"}, format="json").status_code == 201
    assert [n["body"] for n in api(agent).get(url).json()] == ["VIP"]


@pytest.mark.parametrize(
    ("role", "to_self", "expected"),
    [
        (Role.AGENT, True, 200),
        (Role.AGENT, False, 403),
        (Role.MANAGER, False, 200),
        (Role.ADMIN, False, 200),
        (Role.VIEWER, True, 403),
    ],
)
def test_assign_permissions_per_role(role, to_self, expected, other_agent):
    user = UserFactory(role=role)
    ticket = TicketFactory(status=TicketStatus.NEW)
    target = user if to_self else other_agent
    response = api(user).post(
        f"/api/tickets/{ticket.reference}/assign/", {"assignee": target.pk}, format="json"
    )
    assert response.status_code == expected
    ticket.refresh_from_db()
    assert (ticket.assignee_id == target.pk) == (expected == 200)


def test_assign_to_unknown_user_is_a_field_error(manager):
    ticket = TicketFactory()
    response = api(manager).post(
        f"/api/tickets/{ticket.reference}/assign/", {"assignee": 987654}, format="json"
    )
    assert response.status_code == 400
    assert "assignee" in response.json()["fields"]


def test_escalate_by_manager_to_team(manager, team):
    ticket = TicketFactory(status=TicketStatus.OPEN, priority="normal")
    response = api(manager).post(
        f"/api/tickets/{ticket.reference}/escalate/",
        {"reason": "Trade show tomorrow", "to_team": team.pk},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["new_priority"] == "high"
    missing = api(manager).post(
        f"/api/tickets/{ticket.reference}/escalate/", {"reason": ""}, format="json"
    )
    assert missing.status_code == 400


def test_handoff_request_accept_through_the_api(agent, other_agent):
    ticket = TicketFactory(status=TicketStatus.OPEN, assignee=agent)
    url = f"/api/tickets/{ticket.reference}/handoffs/"
    response = api(agent).post(
        url,
        {"to_agent": other_agent.pk, "reason": "Shift ends", "context_summary": "Needs a proof"},
        format="json",
    )
    assert response.status_code == 201
    handoff_id = response.json()["id"]
    assert api(agent).post(f"{url}{handoff_id}/accept/").status_code == 403
    response = api(other_agent).post(f"{url}{handoff_id}/accept/")
    assert response.status_code == 200
    assert response.json()["state"] == "accepted"
    ticket.refresh_from_db()
    assert ticket.assignee == other_agent
    assert api(other_agent).post(f"{url}{handoff_id}/decline/").status_code == 409
    assert [h["state"] for h in api(agent).get(url).json()] == ["accepted"]


def test_handoff_decline(agent, other_agent):
    ticket = TicketFactory(status=TicketStatus.OPEN, assignee=agent)
    url = f"/api/tickets/{ticket.reference}/handoffs/"
    handoff_id = (
        api(agent)
        .post(url, {"to_agent": other_agent.pk, "reason": "Busy"}, format="json")
        .json()["id"]
    )
    response = api(other_agent).post(f"{url}{handoff_id}/decline/", {"note": "Off today"})
    assert response.status_code == 200
    assert AgentHandoff.objects.get().state == HandoffState.DECLINED
    ticket.refresh_from_db()
    assert ticket.assignee == agent


def test_bulk_close_and_rollback(manager):
    first = TicketFactory(status=TicketStatus.OPEN)
    second = TicketFactory(status=TicketStatus.SOLVED)
    closed = TicketFactory(status=TicketStatus.CLOSED)
    response = api(manager).post(
        "/api/tickets/bulk/",
        {"tickets": [first.reference, closed.reference], "action": "status", "status": "pending"},
        format="json",
    )
    assert response.status_code == 409
    first.refresh_from_db()
    assert first.status == TicketStatus.OPEN
    response = api(manager).post(
        "/api/tickets/bulk/",
        {"tickets": [first.reference, second.reference], "action": "close"},
        format="json",
    )
    assert response.status_code == 200 and response.json() == {"updated": 2}
    assert set(Ticket.objects.filter(status=TicketStatus.CLOSED).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
        closed.pk,
    }


def test_merge_ticket_via_api(manager, agent):
    target = TicketFactory(status=TicketStatus.OPEN)
    source = TicketFactory(status=TicketStatus.OPEN, customer=target.customer)
    url = f"/api/tickets/{source.reference}/merge/"
    assert api(agent).post(url, {"into": target.reference}, format="json").status_code == 403
    response = api(manager).post(url, {"into": target.reference}, format="json")
    assert response.status_code == 200
    assert response.json()["reference"] == target.reference


def test_customer_search_by_identity_and_detail(agent, viewer):
    identity = CustomerIdentityFactory(kind=IdentityKind.PHONE, value="+447700900123")
    TicketFactory(customer=identity.customer)
    CustomerIdentityFactory(value="someone@else.com")
    response = api(viewer).get("/api/customers/", {"q": "7700900"})
    assert response.status_code == 200
    assert [c["id"] for c in response.json()] == [identity.customer_id]
    detail = api(agent).get(f"/api/customers/{identity.customer_id}/").json()
    assert detail["identities"][0]["value"] == "+447700900123"
    assert len(detail["tickets"]) == 1
    assert api(agent).get("/api/customers/999999/").status_code == 404


def test_customer_merge_needs_permission(agent, manager):
    keep = CustomerIdentityFactory(value="keep@example.com").customer
    dupe = CustomerIdentityFactory(value="dupe@example.com").customer
    url = f"/api/customers/{keep.pk}/merge/"
    assert api(agent).post(url, {"source": dupe.pk}, format="json").status_code == 403
    response = api(manager).post(url, {"source": dupe.pk}, format="json")
    assert response.status_code == 200
    assert {i["value"] for i in response.json()["identities"]} == {
        "keep@example.com",
        "dupe@example.com",
    }


def test_saved_replies_api(agent, manager):
    ticket = TicketFactory(subject="Order #20001 late")
    ticket.customer.name = "Sam Smith"
    ticket.customer.save()
    payload = {"title": "Late", "body": "Sorry {{customer_first_name}}, {{order_number}} ships"}
    assert api(agent).post("/api/saved-replies/", payload, format="json").status_code == 403
    created = api(manager).post("/api/saved-replies/", payload, format="json")
    assert created.status_code == 201
    reply_id = created.json()["id"]
    assert [r["title"] for r in api(agent).get("/api/saved-replies/").json()] == ["Late"]
    rendered = (
        api(agent)
        .get(f"/api/saved-replies/{reply_id}/render/", {"ticket": ticket.reference})
        .json()
    )
    assert rendered == {"text": "Sorry Sam, #20001 ships"}
    bad = api(manager).put(
        f"/api/saved-replies/{reply_id}/", {"title": "Late", "body": "{{evil}}"}, format="json"
    )
    assert bad.status_code == 400 and "body" in bad.json()["fields"]
    assert api(manager).delete(f"/api/saved-replies/{reply_id}/").status_code == 204


def test_saved_reply_title_must_be_unique(manager):
    create_saved_reply(actor=manager, title="Hello", body="Hi")
    response = api(manager).post(
        "/api/saved-replies/", {"title": "Hello", "body": "again"}, format="json"
    )
    assert response.status_code == 400
    assert "title" in response.json()["fields"]


def test_schema_documents_ticket_endpoints(admin_user, client):
    client.force_login(admin_user)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/tickets/",
        "/api/tickets/{reference}/",
        "/api/tickets/{reference}/messages/",
        "/api/tickets/{reference}/handoffs/{handoff_id}/accept/",
        "/api/customers/",
        "/api/saved-replies/",
    ):
        assert path in paths
