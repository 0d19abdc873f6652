"""Custom fields: typed values set on the ticket page and the API, filterable, on the history,
and usable in rules (`field.<key>`)."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from automation.models import RuleEvent
from automation.services import run_rules
from automation.tests.factories import RuleFactory
from core.errors import ApplicationError, PermissionDenied
from tickets.custom_fields import set_ticket_fields
from tickets.models import CustomField, TicketEvent, TicketStatus
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields():
    return {
        "substrate": CustomField.objects.create(
            key="substrate", label="Substrate", kind="choice", choices=["vinyl", "paper"]
        ),
        "copies": CustomField.objects.create(key="copies", label="Copies", kind="number"),
        "ship_by": CustomField.objects.create(key="ship_by", label="Ship by", kind="date"),
        "note": CustomField.objects.create(key="note", label="Job note", kind="text"),
    }


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_values_are_checked_by_kind_and_stored_as_text(agent, fields):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    values = set_ticket_fields(
        ticket=ticket,
        actor=agent,
        values={"substrate": "vinyl", "copies": "250.0", "ship_by": "2026-12-24", "note": " x "},
    )
    assert values == {"substrate": "vinyl", "copies": "250", "ship_by": "2026-12-24", "note": "x"}
    for bad in ({"substrate": "silk"}, {"copies": "many"}, {"ship_by": "24/12"}, {"nope": "1"}):
        with pytest.raises(ApplicationError) as excinfo:
            set_ticket_fields(ticket=ticket, actor=agent, values=bad)
        assert set(excinfo.value.fields) == set(bad)
    assert set_ticket_fields(ticket=ticket, actor=agent, values={"note": ""}).get("note") is None


def test_viewer_cannot_set_fields(viewer, fields):
    with pytest.raises(PermissionDenied):
        set_ticket_fields(ticket=TicketFactory(), actor=viewer, values={"note": "x"})


def test_a_choice_field_needs_options():
    with pytest.raises(ValidationError):
        CustomField(key="k", label="K", kind="choice", choices=[]).clean()


def test_api_patches_and_filters_by_field_and_the_history_records_it(agent, fields):
    vinyl, paper = TicketFactory(status=TicketStatus.OPEN), TicketFactory(status=TicketStatus.OPEN)
    url = f"/api/tickets/{vinyl.reference}/"
    response = api(agent).patch(url, {"custom_fields": {"substrate": "vinyl"}}, format="json")
    assert response.status_code == 200
    assert response.json()["custom_fields"] == {"substrate": "vinyl"}
    set_ticket_fields(ticket=paper, actor=agent, values={"substrate": "paper"})
    bad = api(agent).patch(url, {"custom_fields": {"copies": "lots"}}, format="json")
    assert bad.status_code == 400 and "copies" in bad.json()["fields"]

    listed = api(agent).get("/api/tickets/", {"field": "substrate:vinyl"}).json()["results"]
    assert [t["reference"] for t in listed] == [vinyl.reference]
    assert api(agent).get("/api/tickets/", {"field": "unknown:x"}).json()["results"] == []
    event = TicketEvent.objects.get(ticket=vinyl)
    assert (event.kind, event.name, event.before, event.after) == (
        "field",
        "substrate",
        None,
        "vinyl",
    )


def test_fields_are_edited_inline_on_the_ticket_page(client, agent, fields):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    client.force_login(agent)
    page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert 'data-field="substrate"' in page and 'type="date"' in page
    response = client.post(
        f"/tickets/{ticket.reference}/fields/", {"key": "copies", "value": "500"}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"copies": "500"}
    timeline = client.get(f"/tickets/{ticket.reference}/timeline/").content.decode()
    assert 'data-history="field"' in timeline


def test_rules_read_custom_fields(agent, fields):
    RuleFactory(
        event=RuleEvent.TICKET_UPDATED,
        conditions=[{"field": "field.substrate", "op": "equals", "value": "Vinyl"}],
        actions=[{"type": "add_tags", "tags": ["vinyl"]}],
    )
    ticket = TicketFactory(status=TicketStatus.OPEN)
    set_ticket_fields(ticket=ticket, actor=agent, values={"substrate": "vinyl"})
    run_rules(event=RuleEvent.TICKET_UPDATED, ticket_id=ticket.pk)
    assert list(ticket.tags.values_list("name", flat=True)) == ["vinyl"]
    with pytest.raises(ValidationError):
        RuleFactory.build(
            conditions=[{"field": "field.unknown", "op": "equals", "value": "x"}]
        ).clean()
