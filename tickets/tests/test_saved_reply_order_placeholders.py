"""Saved replies' {{order.*}} placeholders come from the order linked to the ticket, not from
the customer's latest order."""

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from printshop.models import TicketOrder
from tickets.saved_replies import create_saved_reply, render_saved_reply
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

SNAPSHOT = {
    "shopify": {
        "data": {
            "orders": [
                {"name": "#1003", "total": "80.00", "currency": "USD", "tracking": []},
                {
                    "name": "#1001",
                    "total": "42.50",
                    "currency": "USD",
                    "tracking": [{"company": "UPS", "number": "1Z", "url": "https://ups.test/1Z"}],
                },
            ]
        }
    }
}
BODY = "{{order.name}} ({{ order.total }}) ships: {{order.tracking_url}} / {{order_number}}"


@pytest.fixture
def reply():
    manager = UserFactory(role=Role.MANAGER)
    return create_saved_reply(actor=manager, title="Where is it", body=BODY)


def test_order_placeholders_use_the_order_linked_to_the_ticket(reply):
    ticket = TicketFactory(customer__external_data=SNAPSHOT)
    TicketOrder.objects.create(ticket=ticket, number="#1001", source="shopify")
    assert render_saved_reply(saved_reply=reply, ticket=ticket) == (
        "#1001 (42.50 USD) ships: https://ups.test/1Z / #1001"
    )


def test_without_a_linked_order_nothing_is_guessed(reply):
    ticket = TicketFactory(customer__external_data=SNAPSHOT)
    rendered = render_saved_reply(saved_reply=reply, ticket=ticket)
    assert rendered.startswith("your order () ships: (no tracking yet)")
