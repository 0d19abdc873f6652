import json
from pathlib import Path

import pytest

from integrations.context_refresh import refresh_customer_context
from integrations.fakes import demo_data
from integrations.models import WebhookEvent, WebhookStatus
from integrations.selectors import get_customer_context
from integrations.shopify.views import sign
from knowledge.models import ProductKnowledge
from tickets.models import IdentityKind
from tickets.tests.factories import CustomerFactory, CustomerIdentityFactory

pytestmark = pytest.mark.django_db
SECRET = "shpss_test_secret"
URL = "/api/webhooks/shopify"


@pytest.fixture(autouse=True)
def secret(settings):
    settings.SHOPIFY_WEBHOOK_SECRET = SECRET
    settings.SHOPIFY_API_URL = settings.PERP_API_URL = ""


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """POST a signed delivery and run what it enqueued on commit (the processing task)."""

    def send(client, topic, payload, *, webhook_id="wh-1", signature=None, **headers):
        with django_capture_on_commit_callbacks(execute=True):
            return _post(
                client, topic, payload, webhook_id=webhook_id, signature=signature, **headers
            )

    return send


def _post(client, topic, payload, *, webhook_id, signature, event_id=None, triggered_at=None):
    body = json.dumps(payload).encode()
    extra = {}
    if event_id:
        extra["HTTP_X_SHOPIFY_EVENT_ID"] = event_id
    if triggered_at:
        extra["HTTP_X_SHOPIFY_TRIGGERED_AT"] = triggered_at
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        HTTP_X_SHOPIFY_TOPIC=topic,
        HTTP_X_SHOPIFY_WEBHOOK_ID=webhook_id,
        HTTP_X_SHOPIFY_HMAC_SHA256=signature if signature is not None else sign(body, SECRET),
        HTTP_X_SHOPIFY_SHOP_DOMAIN="printdesk-demo.myshopify.com",
        **extra,
    )


def rest_order(number=1013, **overrides):
    order = {
        "id": 5_000_000_000 + number,
        "name": f"#{number}",
        "created_at": "2026-11-20T10:00:00-05:00",
        "financial_status": "paid",
        "fulfillment_status": None,
        "total_price": "42.50",
        "currency": "USD",
        "line_items": [
            {"title": "Business Cards", "quantity": 2, "sku": "BC-1", "variant_title": "500"}
        ],
        "fulfillments": [],
        "customer": {
            "id": 6_000_000_005,
            "email": "demo.customer.5@example.com",
            "first_name": "Demo",
            "last_name": "Customer 5",
        },
    }
    return {**order, **overrides}


@pytest.fixture
def customer():
    customer = CustomerFactory()
    CustomerIdentityFactory(
        customer=customer, kind=IdentityKind.EMAIL, value="demo.customer.5@example.com"
    )
    return customer


def test_bad_or_missing_signature_is_401_and_stores_nothing(post, client):
    assert post(client, "orders/create", rest_order(), signature="bm90LXZhbGlk").status_code == 401
    assert post(client, "orders/create", rest_order(), signature="").status_code == 401
    assert WebhookEvent.objects.count() == 0


def test_unsigned_when_no_secret_configured(post, client, settings):
    settings.SHOPIFY_WEBHOOK_SECRET = ""
    assert post(client, "orders/create", rest_order()).status_code == 401


def test_order_webhook_links_customer_and_updates_cached_orders(post, client, customer):
    response = post(client, "orders/create", rest_order())
    assert response.status_code == 200 and response.json() == {"status": "accepted"}
    event = WebhookEvent.objects.get()
    assert event.status == WebhookStatus.PROCESSED and event.is_verified
    customer.refresh_from_db()
    assert customer.shopify_customer_id == "6000000005"
    orders = customer.external_data["shopify"]["data"]["orders"]
    assert orders[0]["name"] == "#1013" and orders[0]["fulfillment_status"] == "UNFULFILLED"
    fulfilled = rest_order(
        fulfillment_status="fulfilled",
        fulfillments=[
            {
                "tracking_company": "UPS",
                "tracking_numbers": ["1Z1"],
                "tracking_urls": ["https://ups.example/1Z1"],
            }
        ],
    )
    assert post(client, "orders/fulfilled", fulfilled, webhook_id="wh-2").status_code == 200
    customer.refresh_from_db()
    orders = customer.external_data["shopify"]["data"]["orders"]
    assert len(orders) == 1 and orders[0]["fulfillment_status"] == "FULFILLED"
    assert orders[0]["tracking"][0]["number"] == "1Z1"


def test_replay_is_200_and_changes_nothing(post, client, customer):
    assert post(client, "orders/create", rest_order()).status_code == 200
    replay = post(client, "orders/create", rest_order(total_price="99.00"))
    assert replay.status_code == 200 and replay.json() == {"status": "duplicate"}
    assert WebhookEvent.objects.count() == 1
    customer.refresh_from_db()
    assert customer.external_data["shopify"]["data"]["orders"][0]["total"] == "42.50"


def test_webhook_updates_the_stored_context(post, client, customer, fake_shopify):
    refresh_customer_context(customer_id=customer.pk)
    post(
        client,
        "customers/update",
        {
            "id": 6_000_000_005,
            "email": "demo.customer.5@example.com",
            "first_name": "Renamed",
            "last_name": "Person",
        },
    )
    customer.refresh_from_db()
    assert customer.external_data["shopify"]["data"]["customer"]["name"] == "Renamed Person"
    context = get_customer_context(customer=customer)
    assert context.shopify.customer.name == "Renamed Person" and not context.shopify_state.is_stale


def test_customer_webhook_for_unknown_customer_is_ignored(post, client):
    post(client, "customers/create", {"id": 1, "email": "nobody@example.com"})
    assert WebhookEvent.objects.get().status == WebhookStatus.IGNORED


def test_product_webhooks_reach_knowledge(post, client, monkeypatch):
    monkeypatch.setattr("knowledge.embeddings.is_available", lambda: False)  # no ML model here
    product = demo_data.catalog()[0]
    assert post(client, "products/create", product, webhook_id="p1").status_code == 200
    assert ProductKnowledge.objects.filter(shopify_id=product["id"]).exists()
    assert (
        post(client, "products/delete", {"id": product["id"]}, webhook_id="p2").status_code == 200
    )
    assert not ProductKnowledge.objects.filter(shopify_id=product["id"]).exists()


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (b"not json", {"HTTP_X_SHOPIFY_WEBHOOK_ID": "x"}, "not JSON"),
        (b"[1, 2]", {"HTTP_X_SHOPIFY_WEBHOOK_ID": "x"}, "JSON object"),
        (b"{}", {}, "X-Shopify-Webhook-Id is missing"),
    ],
)
def test_unreadable_signed_delivery_is_stored_as_failed(client, body, headers, reason):
    response = client.post(
        URL,
        data=body,
        content_type="application/json",
        HTTP_X_SHOPIFY_TOPIC="orders/create",
        HTTP_X_SHOPIFY_HMAC_SHA256=sign(body, SECRET),
        **headers,
    )
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.kind, event.status) == ("unparsed:shopify", WebhookStatus.FAILED)
    assert reason in event.error
    assert bytes(event.raw_body) == body


FIXTURES = Path(__file__).parent / "fixtures" / "shopify"


def _signed_fixture(name: str) -> tuple[bytes, dict[str, str], str]:
    """Raw body, headers and secret of a recorded delivery (HMAC computed with openssl)."""
    headers = json.loads((FIXTURES / f"{name}.headers.json").read_text())
    secret = headers.pop("_secret")
    return (FIXTURES / f"{name}.json").read_bytes(), headers, secret


def _deliver(client, body: bytes, headers: dict[str, str]):
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return client.post(URL, data=body, content_type="application/json", **meta)


def test_signed_fixture_valid_tampered_and_replayed(
    client, settings, customer, django_capture_on_commit_callbacks
):
    body, headers, secret = _signed_fixture("orders_create")
    settings.SHOPIFY_WEBHOOK_SECRET = secret
    with django_capture_on_commit_callbacks(execute=True):
        assert _deliver(client, body, headers).status_code == 200
    customer.refresh_from_db()
    assert customer.external_data["shopify"]["data"]["orders"][0]["name"] == "#1013"
    tampered = body.replace(b'"137.99"', b'"1.00"', 1)
    assert _deliver(client, tampered, headers).status_code == 401
    replay = _deliver(client, body, headers)
    assert replay.status_code == 200 and replay.json() == {"status": "duplicate"}
    assert WebhookEvent.objects.count() == 1


def held_orders(customer):
    customer.refresh_from_db()
    return customer.external_data["shopify"]["data"]["orders"]


def test_a_stale_orders_updated_changes_nothing(post, client, customer):
    newer = rest_order(updated_at="2026-11-21T10:00:00-05:00", financial_status="refunded")
    assert post(client, "orders/updated", newer, webhook_id="wh-new").status_code == 200
    before = held_orders(customer)
    # Shopify retried an older delivery; it arrives after the newer one.
    older = rest_order(updated_at="2026-11-20T12:00:00-05:00", financial_status="paid")
    assert post(client, "orders/updated", older, webhook_id="wh-old").status_code == 200
    assert WebhookEvent.objects.get(event_id="wh-old").status == WebhookStatus.IGNORED
    assert held_orders(customer) == before
    assert before[0]["financial_status"] == "REFUNDED"


def test_a_newer_orders_updated_is_applied(post, client, customer):
    post(client, "orders/updated", rest_order(updated_at="2026-11-20T12:00:00Z"), webhook_id="a")
    newest = rest_order(updated_at="2026-11-20T12:00:01Z", financial_status="refunded")
    post(client, "orders/updated", newest, webhook_id="b")
    assert WebhookEvent.objects.get(event_id="b").status == WebhookStatus.PROCESSED
    assert held_orders(customer)[0]["financial_status"] == "REFUNDED"


def test_without_updated_at_the_triggered_at_header_orders_deliveries(post, client, customer):
    post(
        client, "orders/updated", rest_order(), webhook_id="a", triggered_at="2026-11-21T10:00:00Z"
    )
    late = rest_order(financial_status="voided")
    post(client, "orders/updated", late, webhook_id="b", triggered_at="2026-11-20T10:00:00Z")
    assert WebhookEvent.objects.get(event_id="b").status == WebhookStatus.IGNORED
    assert held_orders(customer)[0]["financial_status"] == "PAID"


def test_a_stale_customers_update_changes_nothing(post, client, customer):
    payload = {"id": 6_000_000_005, "email": "demo.customer.5@example.com", "first_name": "New"}
    post(client, "customers/update", {**payload, "updated_at": "2026-11-21T10:00:00Z"})
    stale = {**payload, "first_name": "Old", "updated_at": "2026-11-20T10:00:00Z"}
    post(client, "customers/update", stale, webhook_id="wh-2")
    assert WebhookEvent.objects.get(event_id="wh-2").status == WebhookStatus.IGNORED
    customer.refresh_from_db()
    assert customer.external_data["shopify"]["data"]["customer"]["name"] == "New"


def test_deliveries_dedupe_on_the_event_id(post, client, customer):
    """Two subscriptions (or a retry with a new webhook id) deliver one event twice."""
    first = post(client, "orders/create", rest_order(), webhook_id="wh-1", event_id="evt-9")
    again = post(client, "orders/create", rest_order(), webhook_id="wh-2", event_id="evt-9")
    assert first.json() == {"status": "accepted"} and again.json() == {"status": "duplicate"}
    event = WebhookEvent.objects.get()
    assert event.event_id == "evt-9"
    assert event.headers["X-Shopify-Event-Id"] == "evt-9"
    assert event.headers["X-Shopify-Webhook-Id"] == "wh-1"
