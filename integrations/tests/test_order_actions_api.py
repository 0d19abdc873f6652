"""Order actions through the API and the htmx sidebar: a Manager reprints, refunds part of an
order and sends a discount code, each on the timeline and in the fake's request log; an Agent
gets 403 and sees no buttons (docs/orders.md)."""

import json

import pytest

from accounts.models import Role
from accounts.tests.factories import UserFactory
from integrations.context_refresh import refresh_customer_context
from integrations.fakes import demo_data
from integrations.models import OrderAction
from tickets.models import InternalNote
from tickets.tests.factories import CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(fake_shopify):
    customer = CustomerFactory(shopify_customer_id=str(demo_data.shopify_customer_id(1)))
    return TicketFactory(customer=customer, subject="Cards misprinted")


def api(client, path, data):
    return client.post(f"/api{path}", data=json.dumps(data), content_type="application/json")


def operations(fake) -> list[str]:
    return [json.loads(r["body"]).get("operationName") for r in fake.requests if r["body"]]


def test_a_manager_reprints_refunds_and_sends_a_code(client, fake_shopify, ticket):
    client.force_login(UserFactory(role=Role.MANAGER))
    base = f"/tickets/{ticket.reference}/orders"
    line = fake_shopify._order("gid://shopify/Order/5000001002")["lines"][0]

    preview = api(client, f"{base}/1001/reprint/", {"reason": "misprint"})
    assert preview.status_code == 200 and preview.json()["confirmed"] is False
    reprint = api(client, f"{base}/1001/reprint/", {"reason": "misprint", "confirm": True})
    assert reprint.status_code == 201
    assert reprint.json()["action"]["result"]["order_name"].startswith("#9")

    shown = api(client, f"{base}/1002/refund/", {"line_id": line["id"], "quantity": 1}).json()
    assert shown["changes"][0].startswith(f"Refund {line['price']:.2f} USD")
    refund = api(
        client,
        f"{base}/1002/refund/",
        {
            "line_id": line["id"],
            "quantity": 1,
            "reason": "misprint",
            "confirm": True,
            "amount": shown["confirm"]["amount"],
        },
    )
    assert (
        refund.status_code == 201
        and refund.json()["action"]["amount"] == shown["confirm"]["amount"]
    )

    code_preview = api(
        client, f"/tickets/{ticket.reference}/discount-codes/", {"reason": "late", "percentage": 10}
    ).json()
    code = code_preview["confirm"]["code"]
    made = api(
        client,
        f"/tickets/{ticket.reference}/discount-codes/",
        {"reason": "late", "percentage": "10", "code": code, "confirm": True},
    )
    assert made.status_code == 201 and made.json()["action"]["result"]["code"] == code

    sent = operations(fake_shopify)
    for operation in ("DraftOrderCreate", "DraftOrderComplete", "RefundCreate"):
        assert sent.count(operation) == 1, operation
    assert sent.count("DiscountCodeBasicCreate") == 1
    timeline = client.get(f"/tickets/{ticket.reference}/timeline/").content.decode()
    assert "Reprint #9" in timeline and "Refunded" in timeline and code in timeline
    assert OrderAction.objects.count() == 3


def test_shopify_refusing_is_a_422_that_changes_nothing(client, fake_shopify, ticket):
    client.force_login(UserFactory(role=Role.MANAGER))
    path = f"/tickets/{ticket.reference}/discount-codes/"
    body = {"reason": "late", "percentage": "10", "code": "SORRY", "confirm": True}
    assert api(client, path, body).status_code == 201
    again = api(client, path, body)
    assert again.status_code == 422
    assert again.json()["code"] == "shopify_refused"
    assert "Code must be unique" in again.json()["detail"]
    assert InternalNote.objects.count() == 1


@pytest.mark.parametrize(
    "path,data",
    [
        ("/orders/1001/reprint/", {"reason": "misprint", "confirm": True}),
        ("/orders/1002/refund/", {"include_shipping": True}),
        ("/orders/1002/cancel/", {"reason": "CUSTOMER", "confirm": True}),
        ("/orders/1002/shipping-address/", {"address": {"city": "York"}}),
        ("/discount-codes/", {"reason": "late", "percentage": "10"}),
    ],
)
def test_an_agent_gets_403_and_nothing_reaches_shopify(client, fake_shopify, ticket, path, data):
    client.force_login(UserFactory(role=Role.AGENT))
    response = api(client, f"/tickets/{ticket.reference}{path}", data)
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert fake_shopify.requests == []


def test_the_sidebar_shows_order_buttons_only_to_those_allowed(client, fake_shopify, ticket):
    refresh_customer_context(customer_id=ticket.customer_id)
    url = f"/customers/{ticket.customer_id}/context/?ticket={ticket.reference}"
    client.force_login(UserFactory(role=Role.AGENT))
    assert b"/orders/1002/actions/" not in client.get(url).content
    assert client.get(f"/tickets/{ticket.reference}/orders/1002/actions/").status_code == 403
    client.force_login(UserFactory(role=Role.MANAGER))
    page = client.get(url).content
    assert b"/orders/1002/actions/" in page and b"/discount-code/" in page


def test_the_htmx_refund_confirms_the_exact_amount_first(client, fake_shopify, ticket):
    client.force_login(UserFactory(role=Role.MANAGER))
    panel = client.get(f"/tickets/{ticket.reference}/orders/1002/actions/")
    assert b"Refund the shipping (9.95 USD)" in panel.content
    url = f"/tickets/{ticket.reference}/orders/1002/actions/refund/"

    confirm = client.post(url, {"include_shipping": "1", "reason": "late"})
    assert (
        b"Refund 9.95 USD" in confirm.content and b'name="amount" value="9.95"' in confirm.content
    )
    assert "RefundCreate" not in operations(fake_shopify)

    done = client.post(
        url, {"include_shipping": "1", "reason": "late", "amount": "9.95", "confirm": "1"}
    )
    assert b"Done:" in done.content and b"9.95 USD" in done.content
    assert operations(fake_shopify).count("RefundCreate") == 1


def test_the_htmx_panel_shows_shopify_refusals_in_place(client, fake_shopify, ticket):
    client.force_login(UserFactory(role=Role.MANAGER))
    url = f"/tickets/{ticket.reference}/orders/1001/actions/cancel/"
    response = client.post(url, {"reason": "CUSTOMER", "confirm": "1"})
    assert b"cannot be cancelled" in response.content and b"Nothing was changed" in response.content
    assert not OrderAction.objects.exists()
