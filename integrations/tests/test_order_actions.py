"""Order actions from a ticket against the fake Shopify (docs/orders.md): each one's preview,
its mutation as sent, the timeline note, the analytics event, and refusals that change nothing."""

import json
from decimal import Decimal

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from analytics.models import AnalyticsEvent
from core.errors import ApplicationError, Conflict, PermissionDenied
from integrations import order_actions
from integrations.fakes import demo_data
from integrations.models import OrderAction
from printshop.models import TicketOrder
from tickets.models import InternalNote
from tickets.tests.factories import CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db

# Demo customer 1: #1002 (newest) is paid and unfulfilled, #1001 is paid and shipped.
N = 1
UNFULFILLED, FULFILLED = "#1002", "#1001"


@pytest.fixture
def ticket(fake_shopify):
    customer = CustomerFactory(shopify_customer_id=str(demo_data.shopify_customer_id(N)))
    return TicketFactory(customer=customer, subject="Misprinted cards")


@pytest.fixture
def manager():
    return UserFactory(role=Role.MANAGER)


def sent(fake, operation: str) -> list[dict]:
    """The variables of every `operation` the fake received, in order."""
    bodies = [json.loads(r["body"]) for r in fake.requests if r["body"]]
    return [b["variables"] for b in bodies if b.get("operationName") == operation]


def first_line(fake, number: int) -> dict:
    order = fake._order(f"gid://shopify/Order/{5_000_000_000 + number}")
    return order["lines"][0]


def test_reprint_creates_a_free_completed_order_linked_to_the_ticket(
    fake_shopify, ticket, manager, django_capture_on_commit_callbacks
):
    line = first_line(fake_shopify, 1001)
    preview = order_actions.preview_reprint(
        ticket=ticket, actor=manager, order_name=FULFILLED, reason="misprint", line_id=line["id"]
    )
    assert "no charge" in preview.changes[0] and line["title"] in preview.changes[0]
    assert not sent(fake_shopify, "DraftOrderCreate")  # a preview changes nothing

    with django_capture_on_commit_callbacks(execute=True):
        action = order_actions.perform_reprint(
            ticket=ticket,
            actor=manager,
            order_name=FULFILLED,
            reason="misprint",
            line_id=line["id"],
            quantity=1,
            perp_reference="PD-ORD-10001",
        )

    (draft,) = sent(fake_shopify, "DraftOrderCreate")
    assert draft["input"]["appliedDiscount"]["valueType"] == "PERCENTAGE"
    assert draft["input"]["appliedDiscount"]["value"] == 100.0
    assert set(draft["input"]["tags"]) == {
        "reprint",
        "reprint-reason:misprint",
        ticket.reference,
        "PD-ORD-10001",
    }
    assert draft["input"]["lineItems"][0]["quantity"] == 1
    assert len(sent(fake_shopify, "DraftOrderComplete")) == 1
    new_order = action.result["order_name"]
    assert action.kind == "reprint" and action.quantity == 1 and new_order.startswith("#9")
    assert TicketOrder.objects.filter(ticket=ticket, number=new_order).exists()
    note = InternalNote.objects.get(ticket=ticket)
    assert f"Reprint {new_order}" in note.body and note.author == manager
    event = AnalyticsEvent.objects.get(name="order.reprint")
    assert event.properties["product"] == line["title"] and event.properties["quantity"] == 1


def test_a_refused_completion_deletes_the_draft_and_records_nothing(
    fake_shopify, ticket, manager, monkeypatch
):
    def refuse(args):
        error = {"field": ["id"], "message": "Draft order is not ready"}
        return {"draftOrder": None, "userErrors": [error]}

    monkeypatch.setattr(fake_shopify, "resolve_draftOrderComplete", refuse)
    with pytest.raises(order_actions.ShopifyRefused, match="Draft order is not ready"):
        order_actions.perform_reprint(
            ticket=ticket, actor=manager, order_name=FULFILLED, reason="misprint"
        )
    assert len(sent(fake_shopify, "DraftOrderDelete")) == 1
    assert fake_shopify.draft_orders == {}
    assert not OrderAction.objects.exists() and not InternalNote.objects.exists()


def test_partial_refund_shows_the_suggested_amount_then_refunds_it(fake_shopify, ticket, manager):
    line = first_line(fake_shopify, 1002)
    preview = order_actions.preview_refund(
        ticket=ticket, actor=manager, order_name=UNFULFILLED, line_id=line["id"], quantity=1
    )
    assert preview.confirm == {"amount": f"{line['price']:.2f}"}
    assert f"Refund {line['price']:.2f} USD" in preview.changes[0]

    action = order_actions.perform_refund(
        ticket=ticket,
        actor=manager,
        order_name=UNFULFILLED,
        reason="misprint",
        amount=preview.confirm["amount"],
        line_id=line["id"],
        quantity=1,
    )

    (refund,) = sent(fake_shopify, "RefundCreate")
    assert refund["input"]["refundLineItems"] == [
        {"lineItemId": line["id"], "quantity": 1, "restockType": "NO_RESTOCK"}
    ]
    assert refund["input"]["transactions"][0]["amount"] == f"{line['price']:.2f}"
    assert refund["input"]["transactions"][0]["kind"] == "REFUND"
    assert action.amount == line["price"] and line["refunded"] == 1
    assert "Refunded" in InternalNote.objects.get(ticket=ticket).body
    event = AnalyticsEvent.objects.get(name="order.refund")
    assert Decimal(event.properties["amount"]) == line["price"]


def test_refund_of_the_shipping_only(fake_shopify, ticket, manager):
    preview = order_actions.preview_refund(
        ticket=ticket, actor=manager, order_name=UNFULFILLED, include_shipping=True
    )
    assert preview.confirm == {"amount": "9.95"}
    action = order_actions.perform_refund(
        ticket=ticket,
        actor=manager,
        order_name=UNFULFILLED,
        reason="late",
        amount="9.95",
        include_shipping=True,
    )
    assert action.product == "Shipping" and action.amount == Decimal("9.95")
    assert sent(fake_shopify, "RefundCreate")[0]["input"]["shipping"] == {"fullRefund": True}


def test_a_changed_refund_amount_is_refused_before_anything_is_sent(fake_shopify, ticket, manager):
    line = first_line(fake_shopify, 1002)
    with pytest.raises(Conflict) as refused:
        order_actions.perform_refund(
            ticket=ticket,
            actor=manager,
            order_name=UNFULFILLED,
            reason="misprint",
            amount="0.01",
            line_id=line["id"],
            quantity=1,
        )
    assert refused.value.code == "refund_changed"
    assert not sent(fake_shopify, "RefundCreate") and not OrderAction.objects.exists()


def test_refunding_more_than_was_bought_is_refused(fake_shopify, ticket, manager):
    line = first_line(fake_shopify, 1002)
    with pytest.raises(ApplicationError) as refused:
        order_actions.preview_refund(
            ticket=ticket,
            actor=manager,
            order_name=UNFULFILLED,
            line_id=line["id"],
            quantity=line["quantity"] + 1,
        )
    assert refused.value.code == "invalid_quantity"


def test_the_fake_refuses_a_refund_above_what_was_received(fake_shopify, ticket):
    """Shopify's own rule, as the fake enforces it (our service never sends such a refund)."""
    gid = "gid://shopify/Order/5000001002"
    answer = fake_shopify.resolve_refundCreate(
        {"input": {"orderId": gid, "transactions": [{"amount": "100000.00"}]}}
    )
    (error,) = answer["userErrors"]
    assert "greater than net payment received" in error["message"]


def test_cancel_an_unfulfilled_order_once(fake_shopify, ticket, manager):
    preview = order_actions.preview_cancel(
        ticket=ticket,
        actor=manager,
        order_name=UNFULFILLED,
        reason="CUSTOMER",
        refund=True,
        restock=True,
    )
    assert "cannot be undone" in preview.changes[0] and "Refund" in preview.changes[1]
    action = order_actions.perform_cancel(
        ticket=ticket,
        actor=manager,
        order_name=UNFULFILLED,
        reason="CUSTOMER",
        refund=True,
        restock=True,
    )
    (cancel,) = sent(fake_shopify, "OrderCancel")
    assert cancel["reason"] == "CUSTOMER" and cancel["refund"] is True
    assert action.kind == "cancel" and action.amount > 0
    with pytest.raises(Conflict, match="already cancelled"):
        order_actions.perform_cancel(
            ticket=ticket,
            actor=manager,
            order_name=UNFULFILLED,
            reason="CUSTOMER",
            refund=False,
            restock=False,
        )


def test_cancel_of_a_fulfilled_order_is_refused_by_us_and_by_shopify(fake_shopify, ticket, manager):
    with pytest.raises(Conflict, match="fulfilled"):
        order_actions.preview_cancel(
            ticket=ticket,
            actor=manager,
            order_name=FULFILLED,
            reason="CUSTOMER",
            refund=False,
            restock=False,
        )
    answer = fake_shopify.resolve_orderCancel(
        {"orderId": "gid://shopify/Order/5000001001", "reason": "CUSTOMER"}
    )
    assert answer["orderCancelUserErrors"][0]["code"] == "INVALID"


def test_edit_the_shipping_address_before_fulfilment(fake_shopify, ticket, manager):
    address = {"address1": "2 New Road", "city": "York", "zip": "YO1 7HH"}
    preview = order_actions.preview_address(
        ticket=ticket, actor=manager, order_name=UNFULFILLED, address=address
    )
    assert "address1: “1 Print Street” → “2 New Road”" in preview.changes
    order_actions.perform_address(
        ticket=ticket, actor=manager, order_name=UNFULFILLED, address=address
    )
    (update,) = sent(fake_shopify, "OrderUpdate")
    assert update["input"]["shippingAddress"] == address
    assert fake_shopify.order_state[1002]["address"]["city"] == "York"
    with pytest.raises(Conflict, match="fulfilled"):
        order_actions.preview_address(
            ticket=ticket, actor=manager, order_name=FULFILLED, address=address
        )


def test_discount_code_for_the_customer(fake_shopify, ticket, manager):
    preview = order_actions.preview_discount(
        ticket=ticket, actor=manager, reason="late", percentage="15"
    )
    code = preview.confirm["code"]
    action = order_actions.perform_discount(
        ticket=ticket, actor=manager, reason="late", code=code, percentage="15"
    )
    (created,) = sent(fake_shopify, "DiscountCodeBasicCreate")
    discount = created["basicCodeDiscount"]
    assert discount["code"] == code and discount["customerGets"]["value"] == {"percentage": 0.15}
    assert discount["context"] == {
        "customers": {"add": [f"gid://shopify/Customer/{ticket.customer.shopify_customer_id}"]}
    }
    assert action.result["code"] == code
    assert code in InternalNote.objects.get(ticket=ticket).body


def test_a_code_shopify_refuses_is_shown_and_nothing_is_recorded(fake_shopify, ticket, manager):
    order_actions.perform_discount(
        ticket=ticket, actor=manager, reason="late", code="SORRY10", percentage="10"
    )
    with pytest.raises(order_actions.ShopifyRefused, match="Code must be unique"):
        order_actions.perform_discount(
            ticket=ticket, actor=manager, reason="late", code="SORRY10", percentage="10"
        )
    assert OrderAction.objects.count() == 1 and InternalNote.objects.count() == 1


def test_an_agent_may_not_act_and_nothing_reaches_shopify(fake_shopify, ticket):
    agent = UserFactory(role=Role.AGENT)
    with pytest.raises(PermissionDenied):
        order_actions.preview_refund(
            ticket=ticket, actor=agent, order_name=UNFULFILLED, include_shipping=True
        )
    with pytest.raises(PermissionDenied):
        order_actions.perform_discount(
            ticket=ticket, actor=agent, reason="late", code="X", percentage="10"
        )
    assert fake_shopify.requests == []


def test_an_order_of_another_customer_is_not_found(fake_shopify, ticket, manager):
    with pytest.raises(ApplicationError) as missing:
        order_actions.preview_reprint(
            ticket=ticket, actor=manager, order_name="#1004", reason="misprint"
        )
    assert missing.value.status == 404
