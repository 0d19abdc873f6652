"""Permission before existence (issue 21, finding 7): an endpoint that takes a second object id
answers a caller without the permission 403, the same answer whether or not that object (or the
first) exists, so a 404 or 400 never reveals which tickets, customers or staff exist."""

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from tickets.models import AgentHandoff
from tickets.tests.factories import CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db

MISSING_ID = 987654


@pytest.fixture
def world():
    manager = UserFactory(role=Role.MANAGER)
    ticket, other = TicketFactory(), TicketFactory()
    handoff = AgentHandoff.objects.create(
        ticket=ticket, from_agent=manager, to_agent=manager, reason="shift end"
    )
    return {
        "ticket": ticket.reference,
        "other": other.reference,
        "customer": CustomerFactory().pk,
        "other_customer": CustomerFactory().pk,
        "staff": manager.pk,
        "handoff": handoff.pk,
    }


# (role without the permission, method path, body) with {placeholders} for existing objects,
# and the same call naming objects that do not exist.
CASES = [
    (
        Role.AGENT,
        "/api/tickets/{ticket}/merge/",
        {"into": "{other}"},
        "/api/tickets/{ticket}/merge/",
        {"into": "PD-987654"},
    ),
    (
        Role.AGENT,
        "/api/tickets/{ticket}/merge/",
        {"into": "{other}"},
        "/api/tickets/PD-987654/merge/",
        {"into": "{other}"},
    ),
    (
        Role.AGENT,
        "/api/customers/{customer}/merge/",
        {"source": "{other_customer}"},
        "/api/customers/{customer}/merge/",
        {"source": MISSING_ID},
    ),
    (
        Role.AGENT,
        "/api/customers/{customer}/merge/",
        {"source": "{other_customer}"},
        f"/api/customers/{MISSING_ID}/merge/",
        {"source": "{other_customer}"},
    ),
    (
        Role.AGENT,
        "/api/tickets/{ticket}/assign/",
        {"assignee": "{staff}"},
        "/api/tickets/{ticket}/assign/",
        {"assignee": MISSING_ID},
    ),
    (
        Role.VIEWER,
        "/api/tickets/{ticket}/assign/",
        {"assignee": "{staff}"},
        "/api/tickets/{ticket}/assign/",
        {"assignee": MISSING_ID},
    ),
    (
        Role.AGENT,
        "/api/tickets/bulk/",
        {"tickets": ["{ticket}"], "action": "assign", "assignee": "{staff}"},
        "/api/tickets/bulk/",
        {"tickets": ["{ticket}"], "action": "assign", "assignee": MISSING_ID},
    ),
    (
        Role.VIEWER,
        "/api/tickets/{ticket}/escalate/",
        {"reason": "stuck", "to_user": "{staff}"},
        "/api/tickets/{ticket}/escalate/",
        {"reason": "stuck", "to_user": MISSING_ID},
    ),
    (
        Role.VIEWER,
        "/api/tickets/{ticket}/handoffs/",
        {"reason": "stuck", "to_agent": "{staff}"},
        "/api/tickets/{ticket}/handoffs/",
        {"reason": "stuck", "to_agent": MISSING_ID},
    ),
    (
        Role.VIEWER,
        "/api/tickets/{ticket}/handoffs/{handoff}/accept/",
        {},
        f"/api/tickets/{{ticket}}/handoffs/{MISSING_ID}/accept/",
        {},
    ),
    (
        Role.VIEWER,
        "/api/tickets/{ticket}/handoffs/{handoff}/decline/",
        {},
        f"/api/tickets/{{ticket}}/handoffs/{MISSING_ID}/decline/",
        {},
    ),
]


def fill(value, world: dict):
    if isinstance(value, str):
        filled = value.format(**world)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, list):
        return [fill(item, world) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, world) for key, item in value.items()}
    return value


@pytest.mark.parametrize(("role", "path", "body", "missing_path", "missing_body"), CASES)
def test_api_answers_403_whether_or_not_the_target_exists(
    client, world, role, path, body, missing_path, missing_body
):
    client.force_login(UserFactory(role=role))
    answers = []
    for call_path, call_body in ((path, body), (missing_path, missing_body)):
        response = client.post(
            fill(call_path, world), fill(call_body, world), content_type="application/json"
        )
        answers.append((response.status_code, response.json()["code"]))
    assert answers == [(403, "permission_denied")] * 2


HTML_CASES = [
    (Role.AGENT, "/tickets/{ticket}/merge/", {"into": "{other}"}, {"into": "PD-987654"}),
    (Role.AGENT, "/customers/{customer}/merge/", {"source": "{other_customer}"}, {"source": "1"}),
    (Role.AGENT, "/tickets/{ticket}/assign/", {"assignee": "{staff}"}, {"assignee": "987654"}),
    (
        Role.AGENT,
        "/tickets/bulk/",
        {"tickets": "{ticket}", "action": "assign", "assignee": "{staff}"},
        {"tickets": "{ticket}", "action": "assign", "assignee": "987654"},
    ),
    (Role.VIEWER, "/tickets/{ticket}/escalate/", {"to_user": "{staff}"}, {"to_user": "987654"}),
    (Role.VIEWER, "/tickets/{ticket}/handoffs/", {"to_agent": "{staff}"}, {"to_agent": "987654"}),
]


@pytest.mark.parametrize(("role", "path", "body", "missing_body"), HTML_CASES)
def test_pages_answer_403_whether_or_not_the_target_exists(
    client, world, role, path, body, missing_body
):
    client.force_login(UserFactory(role=role))
    statuses = [
        client.post(
            fill(path, world), {k: str(fill(v, world)) for k, v in data.items()}
        ).status_code
        for data in (body, missing_body)
    ]
    assert statuses == [403, 403]


def test_handoff_answer_page_is_403_for_a_missing_handoff_too(client, world):
    client.force_login(UserFactory(role=Role.VIEWER))
    ticket, handoff = world["ticket"], world["handoff"]
    for handoff_id in (handoff, MISSING_ID):
        response = client.post(f"/tickets/{ticket}/handoffs/{handoff_id}/accept/")
        assert response.status_code == 403


def test_with_the_permission_a_missing_target_is_still_reported(client, world):
    client.force_login(UserFactory(role=Role.MANAGER))
    response = client.post(
        f"/api/tickets/{world['ticket']}/merge/",
        {"into": "PD-987654"},
        content_type="application/json",
    )
    assert response.status_code == 404
    response = client.post(
        f"/api/tickets/{world['ticket']}/assign/",
        {"assignee": MISSING_ID},
        content_type="application/json",
    )
    assert response.status_code == 400
