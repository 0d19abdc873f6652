"""Custom fields on customers (issue 23): the same admin-defined typed fields as tickets, set on
the customer page, in the ticket's customer card and by the API, filterable, and recorded."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import UserFactory
from analytics.models import AnalyticsEvent
from core.errors import ApplicationError, PermissionDenied
from privacy.services import erase_customer
from tickets.custom_fields import set_customer_fields, set_ticket_fields
from tickets.merges import merge_customers
from tickets.models import CustomField, CustomFieldTarget, TicketStatus
from tickets.selectors import get_customer_personal_data
from tickets.tests.factories import CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db

CUSTOMER = CustomFieldTarget.CUSTOMER


@pytest.fixture
def fields():
    return {
        "account": CustomField.objects.create(
            key="account",
            label="Account type",
            kind="choice",
            choices=["retail", "wholesale"],
            applies_to=CUSTOMER,
        ),
        "credit": CustomField.objects.create(
            key="credit", label="Credit limit", kind="number", applies_to=CUSTOMER
        ),
        "substrate": CustomField.objects.create(key="substrate", label="Substrate", kind="text"),
    }


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_customer_values_are_checked_by_kind_and_each_change_is_recorded(agent, fields):
    customer = CustomerFactory()
    values = set_customer_fields(
        customer=customer, actor=agent, values={"account": "wholesale", "credit": "1500.00"}
    )
    assert values == {"account": "wholesale", "credit": "1500"}
    customer.refresh_from_db()
    assert customer.custom_fields == values
    for bad in ({"account": "vip"}, {"credit": "lots"}, {"substrate": "vinyl"}, {"nope": "x"}):
        with pytest.raises(ApplicationError) as excinfo:
            set_customer_fields(customer=customer, actor=agent, values=bad)
        assert set(excinfo.value.fields) == set(bad)
    set_customer_fields(customer=customer, actor=agent, values={"credit": ""})
    customer.refresh_from_db()
    assert customer.custom_fields == {"account": "wholesale"}
    recorded = AnalyticsEvent.objects.filter(name="customer.field_changed").order_by("pk")
    assert [(e.properties["field"], e.properties["to"]) for e in recorded] == [
        ("account", "wholesale"),
        ("credit", "1500"),
        ("credit", None),
    ]
    assert {e.actor_id for e in recorded} == {agent.pk}


def test_a_customer_field_cannot_be_set_on_a_ticket(agent, fields):
    with pytest.raises(ApplicationError):
        set_ticket_fields(ticket=TicketFactory(), actor=agent, values={"account": "retail"})


def test_viewer_cannot_set_customer_fields(viewer, fields):
    with pytest.raises(PermissionDenied):
        set_customer_fields(customer=CustomerFactory(), actor=viewer, values={"credit": "1"})


def test_api_reads_patches_and_filters_customer_fields(agent, viewer, fields):
    wholesale, retail = CustomerFactory(), CustomerFactory()
    set_customer_fields(customer=retail, actor=agent, values={"account": "retail"})
    url = f"/api/customers/{wholesale.pk}/"
    response = api(agent).patch(url, {"custom_fields": {"account": "wholesale"}}, format="json")
    assert response.status_code == 200
    assert response.json()["custom_fields"] == {"account": "wholesale"}
    assert api(agent).get(url).json()["custom_fields"] == {"account": "wholesale"}

    bad_values = {"custom_fields": {"credit": "lots", "account": "x"}}
    bad = api(agent).patch(url, bad_values, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"credit"}  # the first bad value stops the patch
    wholesale.refresh_from_db()
    assert wholesale.custom_fields == {"account": "wholesale"}
    refused = api(viewer).patch(url, {"custom_fields": {"credit": "1"}}, format="json")
    assert refused.status_code == 403

    listed = api(agent).get("/api/customers/", {"field": "account:wholesale"}).json()
    assert [c["id"] for c in listed] == [wholesale.pk]
    assert api(agent).get("/api/customers/", {"field": "substrate:x"}).json() == []
    assert api(agent).get("/api/customers/", {"field": "credit:lots"}).json() == []


def test_customer_page_edits_fields_inline_and_the_list_filters(client, agent, fields):
    customer = CustomerFactory(name="Ada Print")
    other = CustomerFactory(name="Bob Signs")
    client.force_login(agent)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'id="customer-field-account"' in page and 'id="customer-field-substrate"' not in page
    response = client.post(
        f"/customers/{customer.pk}/fields/", {"key": "account", "value": "wholesale"}
    )
    assert response.status_code == 302 and response.url == f"/customers/{customer.pk}/"
    customer.refresh_from_db()
    assert customer.custom_fields == {"account": "wholesale"}

    refused = client.post(f"/customers/{customer.pk}/fields/", {"key": "credit", "value": "x"})
    assert refused.status_code == 400 and "Not a number." in refused.content.decode()

    listed = client.get("/customers/", {"field": "account:wholesale"}).content.decode()
    assert "Ada Print" in listed and "Bob Signs" not in listed
    assert other.custom_fields == {}


def test_viewer_sees_customer_fields_read_only(client, viewer, agent, fields):
    customer = CustomerFactory()
    set_customer_fields(customer=customer, actor=agent, values={"account": "retail"})
    client.force_login(viewer)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Account type:</span> retail" in page and "customer-field-account" not in page
    refused = client.post(f"/customers/{customer.pk}/fields/", {"key": "account", "value": "x"})
    assert refused.status_code == 403


def test_ticket_sidebar_customer_card_edits_customer_fields(client, agent, fields):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    client.force_login(agent)
    page = client.get(f"/tickets/{ticket.reference}/").content.decode()
    assert 'id="customer-field-credit"' in page
    assert 'name="ticket" value="' + ticket.reference + '"' in page
    response = client.post(
        f"/customers/{ticket.customer_id}/fields/",
        {"key": "credit", "value": "250", "ticket": ticket.reference},
    )
    assert response.status_code == 302 and response.url == f"/tickets/{ticket.reference}/"
    ticket.customer.refresh_from_db()
    assert ticket.customer.custom_fields == {"credit": "250"}

    refused = client.post(
        f"/customers/{ticket.customer_id}/fields/",
        {"key": "credit", "value": "lots", "ticket": ticket.reference},
    )
    assert refused.status_code == 400 and "Not a number." in refused.content.decode()
    assert 'id="ticket-page"' in refused.content.decode()


def _count_queries(client, url: str) -> int:
    client.get(url)  # first view: marks the ticket viewed
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _add_fields(count: int) -> None:
    for number in range(count):
        for target in CustomFieldTarget.values:
            CustomField.objects.create(
                key=f"{target}-{number}", label=f"{target} {number}", kind="text", applies_to=target
            )


def test_customer_page_and_ticket_sidebar_do_not_grow_per_field(
    client, agent, fields, django_assert_max_num_queries
):
    ticket = TicketFactory(status=TicketStatus.OPEN)
    client.force_login(agent)
    pages = [f"/tickets/{ticket.reference}/", f"/customers/{ticket.customer_id}/"]
    baseline = {url: _count_queries(client, url) for url in pages}
    _add_fields(6)
    set_customer_fields(customer=ticket.customer, actor=agent, values={"customer-3": "x"})
    for url in pages:
        with django_assert_max_num_queries(baseline[url]):
            assert client.get(url).status_code == 200


def test_a_merge_keeps_the_targets_values_and_fills_gaps_from_the_duplicate(manager, fields):
    target = CustomerFactory(custom_fields={"account": "wholesale"})
    duplicate = CustomerFactory(custom_fields={"account": "retail", "credit": "500"})
    merge_customers(source=duplicate, target=target, actor=manager)
    target.refresh_from_db()
    assert target.custom_fields == {"account": "wholesale", "credit": "500"}


def test_erasure_clears_the_customers_fields_and_their_recorded_values(agent, manager, fields):
    customer = CustomerFactory(name="Ada Print")
    set_customer_fields(customer=customer, actor=agent, values={"account": "wholesale"})
    customer.refresh_from_db()
    assert get_customer_personal_data(customer=customer)["profile"]["custom_fields"] == {
        "account": "wholesale"
    }
    erase_customer(customer=customer, actor=UserFactory(role=Role.ADMIN))
    customer.refresh_from_db()
    assert customer.custom_fields == {}
    recorded = AnalyticsEvent.objects.get(name="customer.field_changed")
    assert recorded.properties == {"field": "account", "from": None, "to": None}
