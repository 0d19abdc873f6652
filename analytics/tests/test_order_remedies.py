"""The "reprints and refunds by product and reason" report, from order-action events."""

import csv
import io

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from analytics.services import record_event
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_reprints_and_refunds_are_grouped_by_product_and_reason():
    ticket = TicketFactory()
    reprint = {"order": "#1001", "reason": "misprint", "product": "Business Cards"}
    record_event(name="order.reprint", ticket=ticket, properties={**reprint, "quantity": 2})
    record_event(name="order.reprint", ticket=ticket, properties={**reprint, "quantity": 1})
    refund = {"order": "#1002", "reason": "misprint", "product": "Business Cards"}
    record_event(
        name="order.refund",
        ticket=ticket,
        properties={**refund, "amount": "12.50", "currency": "USD", "quantity": 1},
    )
    record_event(
        name="order.refund",
        ticket=ticket,
        properties={
            "order": "#1002",
            "reason": "late",
            "product": "Shipping",
            "amount": "9.95",
            "currency": "USD",
            "quantity": 0,
        },
    )
    record_event(name="order.discount", ticket=ticket, properties={"code": "X", "reason": "late"})

    client = Client()
    client.force_login(UserFactory(role=Role.MANAGER))
    today = timezone.localdate().isoformat()
    export = client.get(f"/analytics/?from={today}&to={today}&format=csv&table=order_remedies")

    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows == [
        ["Product", "Reason", "Reprints", "Items reprinted", "Refunds", "Refunded"],
        ["Business Cards", "misprint", "2", "3", "1", "12.50 USD"],
        ["Shipping", "late", "0", "0", "1", "9.95 USD"],
    ]
    page = client.get(f"/analytics/?from={today}&to={today}").content.decode()
    assert "Reprints and refunds by product and reason" in page
