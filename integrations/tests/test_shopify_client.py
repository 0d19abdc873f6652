import json

import pytest

from integrations.fakes import demo_data
from integrations.fakes.server import FakeResponse
from integrations.fakes.shopify import FakeShopify
from integrations.shopify.client import (
    MAX_QUERY_COST,
    PRODUCT_PAGE_SIZE,
    ShopifyAuthFailed,
    ShopifyClient,
    ShopifyGraphQLError,
    ShopifyNotConfigured,
    ShopifyQueryTooCostly,
    ShopifyThrottled,
    ShopifyUnavailable,
    ShopifyUserError,
)


@pytest.fixture
def client(fake_shopify, retry):
    return ShopifyClient(
        api_url=fake_shopify.api_url, access_token=fake_shopify.access_token, retry=retry
    )


def test_find_customer_by_email_and_phone(client, fake_shopify):
    customer = client.find_customer_by_email("demo.customer.5@example.com")
    assert customer.id == 6_000_000_005 and customer.email == "demo.customer.5@example.com"
    assert customer.orders_count == 3 and customer.amount_spent > 0
    assert client.find_customer_by_phone("+447700900005").id == customer.id
    assert client.find_customer_by_email("stranger@example.com") is None
    sent = fake_shopify.requests[0]
    assert sent["headers"]["X-Shopify-Access-Token"] == "shpat_test"
    assert json.loads(sent["body"])["variables"] == {"query": 'email:"demo.customer.5@example.com"'}


def test_customer_with_recent_orders(client):
    customer, orders = client.get_customer_with_orders(6_000_000_005, first=10)
    assert customer.name == "Demo Customer 5"
    assert [o.name for o in orders] == ["#1015", "#1014", "#1013"]
    shipped = orders[-1]
    assert shipped.fulfillment_status == "FULFILLED" and shipped.financial_status == "PAID"
    assert shipped.tracking[0].company == "UPS" and shipped.tracking[0].url
    assert shipped.line_items and shipped.line_items[0].quantity >= 1
    assert client.get_customer_with_orders(1) is None


def test_order_by_name(client):
    order = client.get_order_by_name("#1013")
    assert order.name == "#1013" and order.customer_id == 6_000_000_005
    assert client.get_order_by_name("1013").id == order.id
    assert client.get_order_by_name("#999999") is None


def test_list_products_paginates_with_cursors_under_the_cost_limit(client, fake_shopify):
    seen, after, pages = [], None, 0
    while True:
        page = client.list_products(after=after)
        seen += page.products
        pages += 1
        if not page.has_next_page:
            break
        after = page.end_cursor
    catalog = demo_data.catalog()
    assert len(seen) == len(catalog) and pages == -(-len(catalog) // PRODUCT_PAGE_SIZE)
    first = seen[0]
    assert first.id == catalog[0]["id"] and first.status == "active"
    assert first.variants[0].options and first.variants[0].sku == catalog[0]["variants"][0]["sku"]
    assert first.images[0].url == catalog[0]["images"][0]["src"]
    assert max(c["requested"] for c in fake_shopify.costs) <= MAX_QUERY_COST


def test_list_products_fetches_variants_beyond_the_first_page(client, fake_shopify):
    product = demo_data.catalog()[0]
    many = [{**product["variants"][0], "id": 1000 + i, "sku": f"SKU-{i}"} for i in range(400)]
    fake_shopify.products = [{**product, "variants": many}]
    (item,) = client.list_products().products
    assert [v.sku for v in item.variants] == [f"SKU-{i}" for i in range(400)]
    operations = [json.loads(r["body"])["operationName"] for r in fake_shopify.requests]
    assert operations == ["Products", "ProductVariants", "ProductVariants"]


def test_list_products_refuses_a_page_over_the_cost_limit(client):
    with pytest.raises(ValueError):
        client.list_products(first=PRODUCT_PAGE_SIZE + 1)


def test_a_query_over_the_cost_limit_is_refused(client):
    query = "query Big { products(first: 250) { nodes { variants(first: 250) { nodes { id } } } } }"
    with pytest.raises(ShopifyQueryTooCostly, match="exceeds the single query max cost") as caught:
        client.execute(query, {}, operation="Big")
    assert caught.value.code == "max_cost_exceeded"


def test_product_from_graphql_skips_non_image_media():
    from integrations.shopify.types import ShopifyProduct

    node = {
        "id": "gid://shopify/Product/1",
        "title": "Flyers",
        "status": "DRAFT",
        "media": {"nodes": [{}, {"image": {"url": "https://cdn.example/f.png", "altText": None}}]},
        "variants": {"nodes": []},
    }
    product = ShopifyProduct.from_graphql(node)
    assert product.id == 1 and product.status == "draft"
    assert [i.url for i in product.images] == ["https://cdn.example/f.png"]


def test_throttled_waits_per_cost_and_retries(client, fake_shopify, sleeps):
    fake_shopify.drain(0)
    assert client.find_customer_by_email("demo.customer.1@example.com") is not None
    # FindCustomers requests 22 points; an empty bucket refills 100/s -> 0.22 s (+ margin)
    assert sleeps == [pytest.approx(0.27)]
    assert len(fake_shopify.requests) == 2


def test_the_client_honours_the_bucket(settings, clock, retry):
    """A small bucket on a slow shop: after each THROTTLED answer the client waits as long as
    the bucket needs to refill for that query (and barely more), so no retry is refused again."""
    shop = FakeShopify(clock=clock, bucket_size=1000, restore_rate=20).start()
    try:
        client = ShopifyClient(api_url=shop.api_url, access_token=shop.access_token, retry=retry)
        after, products = None, 0
        while True:
            page = client.list_products(after=after)
            products += len(page.products)
            if not page.has_next_page:
                break
            after = page.end_cursor
    finally:
        shop.stop()
    assert products == len(demo_data.catalog())
    assert len(shop.throttles) == len(clock.sleeps) > 3
    for refusal, waited in zip(shop.throttles, clock.sleeps, strict=True):
        assert refusal["wait_needed"] <= waited <= refusal["wait_needed"] + 0.06
    assert len(shop.costs) == -(-products // PRODUCT_PAGE_SIZE)  # each page answered once


def test_throttled_forever_raises(clock, retry):
    shop = FakeShopify(clock=clock, restore_rate=0).start()
    try:
        shop.drain(0)
        client = ShopifyClient(api_url=shop.api_url, access_token=shop.access_token, retry=retry)
        with pytest.raises(ShopifyThrottled):
            client.get_shop()
    finally:
        shop.stop()
    assert clock.sleeps == []  # a bucket that never refills is not waited for


def test_5xx_retried_then_unavailable(client, fake_shopify, sleeps):
    fake_shopify.fail_next(1, status=503)
    assert client.get_shop().name == "Printdesk Demo Shop"
    fake_shopify.is_down = True
    with pytest.raises(ShopifyUnavailable):
        client.get_shop()
    assert sleeps == [0.5, 0.5, 1.0]


def test_bad_token_is_auth_failed(fake_shopify, retry):
    bad = ShopifyClient(api_url=fake_shopify.api_url, access_token="nope", retry=retry)
    with pytest.raises(ShopifyAuthFailed):
        bad.get_shop()
    assert not bad.test_connection().ok


def test_graphql_errors_raise(client, monkeypatch):
    with pytest.raises(ShopifyGraphQLError, match="doesn't exist on type 'QueryRoot'"):
        client.execute("query Nope { nope }", {}, operation="Nope")


def test_access_denied_is_auth_failed(client, fake_shopify, monkeypatch):
    denied = {"errors": [{"message": "Access denied", "extensions": {"code": "ACCESS_DENIED"}}]}
    monkeypatch.setattr(fake_shopify, "handle", lambda *a: FakeResponse(200, denied))
    with pytest.raises(ShopifyAuthFailed):
        client.get_shop()


def test_mutation_user_errors(client, fake_shopify, monkeypatch):
    answer = {
        "data": {
            "customerUpdate": {
                "customer": None,
                "userErrors": [
                    {"field": ["input", "email"], "message": "Email has already been taken"}
                ],
            }
        }
    }
    monkeypatch.setattr(fake_shopify, "handle", lambda *a: FakeResponse(200, answer))
    fake_shopify.fail_next(1, status=503)
    with pytest.raises(ShopifyUnavailable):  # mutations are not retried
        client.execute("mutation M { x }", {}, operation="M", mutation_field="customerUpdate")
    with pytest.raises(ShopifyUserError, match="already been taken") as caught:
        client.execute("mutation M { x }", {}, operation="M", mutation_field="customerUpdate")
    assert caught.value.user_errors[0]["field"] == ["input", "email"]


def test_test_connection_and_from_settings(fake_shopify):
    result = ShopifyClient.from_settings().test_connection()
    assert result.ok and "printdesk-demo.myshopify.com" in result.detail


def test_not_configured(settings):
    settings.SHOPIFY_API_URL = ""
    with pytest.raises(ShopifyNotConfigured):
        ShopifyClient.from_settings()
