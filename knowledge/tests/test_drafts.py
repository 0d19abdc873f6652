from datetime import UTC, datetime

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from integrations.context_refresh import refresh_customer_context
from integrations.fakes import demo_data
from knowledge import drafts
from knowledge.suggestions import get_ticket_suggestions
from tickets.tests.factories import (
    CustomerFactory,
    CustomerIdentityFactory,
    TicketFactory,
    TicketMessageFactory,
)


@pytest.mark.parametrize(
    "text",
    [
        "Where is my order #1001?",
        "hi, when will my banners ship",
        "Any tracking for us?",
        "Still waiting for the flyers",
        "What's the order status please",
    ],
)
def test_order_status_questions_are_recognised(text):
    assert drafts.is_order_status_question(text)


@pytest.mark.parametrize("text", ["Do you print on 300gsm matte?", "Proof looks blurry"])
def test_other_questions_are_not_order_status(text):
    assert not drafts.is_order_status_question(text)


def test_draft_describes_production_stage_and_shipping():
    orders = [
        drafts.OrderStatusFacts(
            number="#1002",
            production_stage="finishing",
            estimated_ready_at=datetime(2026, 12, 3, tzinfo=UTC),
            fulfillment_status="UNFULFILLED",
        ),
        drafts.OrderStatusFacts(
            number="#1001",
            fulfillment_status="FULFILLED",
            tracking=[drafts.TrackingInfo("UPS", "1Z999", "https://ups.example/1Z999")],
        ),
    ]
    text = drafts.draft_order_status_reply(customer_name="Jo Bloggs", orders=orders)
    assert text.startswith("Hi Jo,")
    assert "Order #1002 is in production, currently at the finishing stage" in text
    assert "ready by Thursday 3 December" in text
    assert "Order #1001 has shipped with UPS, tracking number 1Z999" in text


def test_select_orders_prefers_mentioned_then_open():
    shipped = drafts.OrderStatusFacts(number="#1001", fulfillment_status="FULFILLED")
    open_order = drafts.OrderStatusFacts(number="#1002", production_stage="printing")
    orders = [open_order, shipped]
    assert drafts.select_orders(orders=orders, text="where is #1001") == [shipped]
    assert drafts.select_orders(orders=orders, text="where is my order") == [open_order]
    assert drafts.select_orders(orders=[shipped], text="where is my order") == [shipped]


def test_draft_without_orders_asks_for_the_number():
    text = drafts.draft_order_status_reply(customer_name="", orders=[])
    assert text.startswith("Hi there,")
    assert "order number" in text


@pytest.mark.django_db
def test_suggestions_draft_uses_real_production_stage(fake_shopify, fake_perp):
    n = 3
    newest = demo_data.order_numbers(n)[0]
    stage = demo_data.order_facts(newest)["stage"]
    assert stage != "shipped"
    customer = CustomerFactory(name="Demo Customer 3")
    CustomerIdentityFactory(customer=customer, value=f"demo.customer.{n}@example.com")
    ticket = TicketFactory(customer=customer, subject="Order question")
    TicketMessageFactory(ticket=ticket, body="Hi, where is my order? It's been a week.")
    agent = UserFactory(role=Role.AGENT)
    refresh_customer_context(customer_id=customer.pk)

    suggestion = get_ticket_suggestions(user=agent, reference=ticket.reference)

    assert f"Order #{newest} is in production, currently at the {stage} stage" in (
        suggestion.order_draft
    )
    assert suggestion.order_draft_error == ""


@pytest.mark.django_db
def test_suggestions_draft_says_when_providers_are_not_configured(settings):
    settings.SHOPIFY_API_URL = ""
    settings.PERP_API_URL = ""
    ticket = TicketFactory(subject="Where is my order?")
    TicketMessageFactory(ticket=ticket, body="Hello?")

    suggestion = get_ticket_suggestions(
        user=UserFactory(role=Role.AGENT), reference=ticket.reference
    )

    assert "order number" in suggestion.order_draft
    assert suggestion.order_draft_error == "Shopify: not configured; PERP: not configured"
