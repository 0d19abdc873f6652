"""Tags: `PATCH /api/tickets/<ref>/` with `"tags"`, `GET /api/tickets/?tag=`, the ticket page's
tag box and the inbox filter; each change is on the ticket's history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.errors import PermissionDenied
from tickets import tags
from tickets.models import Tag, TicketEvent, TicketStatus
from tickets.selectors import list_tags
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_patch_sets_tags_and_the_list_filters_by_tag(agent):
    rush, other = TicketFactory(status=TicketStatus.OPEN), TicketFactory(status=TicketStatus.OPEN)
    url = f"/api/tickets/{rush.reference}/"
    response = api(agent).patch(url, {"tags": ["Rush", "#proof", "rush"]}, format="json")
    assert response.status_code == 200
    assert response.json()["tags"] == ["proof", "rush"]
    tags.set_ticket_tags(ticket=other, actor=agent, tags=["proof"])

    listed = api(agent).get("/api/tickets/", {"tag": "rush"}).json()["results"]

    assert [(t["reference"], t["tags"]) for t in listed] == [(rush.reference, ["proof", "rush"])]
    event = TicketEvent.objects.get(ticket=rush)
    assert (event.kind, event.before, event.after, event.actor) == (
        "tags",
        [],
        ["proof", "rush"],
        agent,
    )


def test_bad_tags_are_a_400_and_change_nothing(agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    url = f"/api/tickets/{ticket.reference}/"
    response = api(agent).patch(
        url, {"tags": ["ok", "no spaces!"], "priority": "high"}, format="json"
    )
    assert response.status_code == 400
    assert "tags" in response.json()["fields"]
    ticket.refresh_from_db()
    assert ticket.priority == "normal" and not ticket.tags.exists()


def test_viewer_cannot_tag(viewer):
    with pytest.raises(PermissionDenied):
        tags.set_ticket_tags(ticket=TicketFactory(), actor=viewer, tags=["rush"])


def test_same_tags_record_nothing(agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    tags.set_ticket_tags(ticket=ticket, actor=agent, tags=["rush"])
    tags.add_ticket_tags(ticket=ticket, actor=agent, tags=["RUSH"])
    assert TicketEvent.objects.filter(ticket=ticket).count() == 1


def test_tags_are_edited_on_the_ticket_page_and_filter_the_inbox(client, agent):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    TicketFactory(status=TicketStatus.OPEN)
    client.force_login(agent)
    response = client.post(f"/tickets/{ticket.reference}/tags/", {"tags": "rush, proof"})
    assert response.status_code == 302
    page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert 'value="proof, rush"' in page
    assert 'data-history="tags"' in page
    inbox = client.get("/tickets/", {"tag": "rush"}).content.decode()
    assert inbox.count('data-ticket="PD-') == 1 and f'data-ticket="{ticket.reference}"' in inbox
    assert 'data-tag="rush"' in inbox


def test_tags_in_use_are_listed_once_each_with_a_semi_join_not_a_distinct(agent):
    for _ in range(3):
        tags.set_ticket_tags(ticket=TicketFactory(), actor=agent, tags=["rush", "proof"])
    Tag.objects.create(name="unused")

    with CaptureQueriesContext(connection) as queries:
        listed = [tag.name for tag in list_tags()]

    assert listed == ["proof", "rush"]
    assert len(queries) == 1 and "DISTINCT" not in queries[0]["sql"].upper()
    assert "EXISTS" in queries[0]["sql"].upper()
