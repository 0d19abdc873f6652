"""The fake Shopify's cost model and bucket follow Shopify's documented rules."""

import json

import pytest
import requests

from integrations.fakes import shopify_cost as cost
from integrations.fakes.shopify import API_PATH, FakeShopify
from integrations.fakes.shopify_cost import VirtualClock
from integrations.shopify import client as shopify_client


def requested(query: str, variables: dict | None = None, name: str | None = None) -> int:
    op = cost.parse_operation(query, operation_name=name, variables=variables)
    return cost.requested_cost(op)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ shop { name myshopifyDomain } }", 1),  # an object 1, scalars 0
        ("{ products(first: 10) { edges { node { title } } } }", 2 + 10 * 1),
        ("{ products(first: 10) { nodes { title } pageInfo { hasNextPage } } }", 12),
        # nested connections multiply
        (
            "{ products(first: 10) { nodes { variants(first: 5) { nodes { sku } } } } }",
            2 + 10 * (1 + 2 + 5 * 1),
        ),
        # a union/interface costs its dearest possible selection
        (
            "{ product(id: 1) { media(first: 4) { nodes {"
            " ... on MediaImage { image { url } } ... on Video { id } } } } }",
            1 + 2 + 4 * 2,
        ),
        ('mutation { tagsAdd(id: 1, tags: ["a"]) { userErrors { message } } }', 10 + 1),
    ],
)
def test_requested_cost_follows_the_documented_rules(query, expected):
    assert requested(query) == expected


def test_variables_and_defaults_size_connections():
    query = "query P($n: Int = 7) { products(first: $n) { nodes { id } } }"
    assert requested(query) == 2 + 7
    assert requested(query, {"n": 50}) == 2 + 50


def test_a_connection_without_first_or_last_is_an_error():
    with pytest.raises(cost.QueryError, match="first or last"):
        requested("{ products { nodes { id } } }")


def test_the_clients_product_page_cost_is_what_shopify_computes():
    """The client sizes its page by arithmetic; the calculator over its real query agrees."""
    page = requested(shopify_client.PRODUCTS_QUERY, {"first": 1}, "Products")
    assert page == shopify_client.CONNECTION_COST + shopify_client.PRODUCT_COST
    size = shopify_client.PRODUCT_PAGE_SIZE
    full = requested(shopify_client.PRODUCTS_QUERY, {"first": size}, "Products")
    over = requested(shopify_client.PRODUCTS_QUERY, {"first": size + 1}, "Products")
    assert full <= cost.SINGLE_QUERY_MAX_COST < over
    variants = requested(
        shopify_client.PRODUCT_VARIANTS_QUERY,
        {"id": "gid://shopify/Product/1", "first": shopify_client.EXTRA_VARIANTS_PAGE_SIZE},
        "ProductVariants",
    )
    assert variants <= cost.SINGLE_QUERY_MAX_COST


def test_every_client_query_fits_the_single_query_limit():
    for query, variables, name in [
        (shopify_client.CUSTOMER_ORDERS_QUERY, {"id": "x", "first": 10}, "CustomerWithOrders"),
        (shopify_client.FIND_CUSTOMERS_QUERY, {"query": "email:a"}, "FindCustomers"),
        (shopify_client.ORDER_BY_NAME_QUERY, {"query": "name:1"}, "OrderByName"),
        (shopify_client.BULK_RUN_QUERY, {"query": "{}"}, "BulkOperationRunQuery"),
        (shopify_client.BULK_OPERATION_QUERY, {"id": "x"}, "BulkOperation"),
    ]:
        assert requested(query, variables, name) <= cost.SINGLE_QUERY_MAX_COST, name


def test_bucket_leaks_back_at_the_restore_rate():
    clock = VirtualClock()
    bucket = cost.CostBucket(maximum=2000, restore_rate=100, clock=clock)
    assert bucket.take(1000) and bucket.take(1000)
    assert not bucket.take(1)
    clock.sleep(0.5)
    assert bucket.status()["currentlyAvailable"] == 50.0
    clock.sleep(60)
    assert bucket.status() == {
        "maximumAvailable": 2000.0,
        "currentlyAvailable": 2000.0,
        "restoreRate": 100.0,
    }


def post(shop: FakeShopify, query: str, variables: dict | None = None) -> dict:
    response = requests.post(
        shop.api_url,
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": shop.access_token},
        timeout=5,
    )
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def shop():
    server = FakeShopify(clock=VirtualClock()).start()
    yield server
    server.stop()


def test_answers_carry_the_cost_extension_and_refund_the_unused_cost(shop):
    answer = post(shop, "{ products(first: 3) { nodes { title } } }")
    assert len(answer["data"]["products"]["nodes"]) == 3
    assert answer["extensions"]["cost"] == {
        "requestedQueryCost": 5,
        "actualQueryCost": 5,
        "throttleStatus": {
            "maximumAvailable": 2000.0,
            "currentlyAvailable": 1995.0,
            "restoreRate": 100.0,
        },
    }
    # 250 requested but the shop has 150 products: the 100 not returned are refunded
    answer = post(shop, "{ products(first: 250) { nodes { title } } }")
    assert answer["extensions"]["cost"]["requestedQueryCost"] == 252
    assert answer["extensions"]["cost"]["actualQueryCost"] == 152
    assert answer["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 1995 - 152


def test_over_the_single_query_limit_is_max_cost_exceeded(shop):
    answer = post(
        shop, "{ products(first: 100) { nodes { variants(first: 100) { nodes { id } } } } }"
    )
    assert "data" not in answer
    (error,) = answer["errors"]
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert error["extensions"]["cost"] == 2 + 100 * (1 + 2 + 100)
    assert error["extensions"]["maxCost"] == 1000
    assert error["message"].startswith("Query cost is 10302, which exceeds the single query max")
    assert shop.bucket.status()["currentlyAvailable"] == 2000.0  # nothing was charged


def test_an_empty_bucket_answers_throttled_like_shopify(shop):
    shop.drain(10)
    answer = post(shop, "{ products(first: 10) { nodes { title } } }")
    assert answer == {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": cost.DOCS_URL},
            }
        ],
        "extensions": {
            "cost": {
                "requestedQueryCost": 12,
                "actualQueryCost": None,
                "throttleStatus": {
                    "maximumAvailable": 2000.0,
                    "currentlyAvailable": 10.0,
                    "restoreRate": 100.0,
                },
            }
        },
    }


def test_answers_are_shaped_by_the_selection(shop):
    answer = post(
        shop,
        "query P($after: String) { list: products(first: 2, after: $after) {"
        " edges { cursor node { title variants(first: 1) { nodes { sku } } } }"
        " pageInfo { hasNextPage endCursor } } }",
    )
    products = answer["data"]["list"]
    assert set(products["edges"][0]) == {"cursor", "node"}
    assert set(products["edges"][0]["node"]) == {"title", "variants"}
    assert len(products["edges"][0]["node"]["variants"]["nodes"]) == 1
    assert products["pageInfo"]["hasNextPage"] is True
    following = post(
        shop,
        "query P($after: String) { products(first: 1, after: $after) { nodes { title } } }",
        {"after": products["pageInfo"]["endCursor"]},
    )
    assert following["data"]["products"]["nodes"][0]["title"] == shop.catalog()[2]["title"]


def test_unknown_fields_and_syntax_errors(shop):
    assert post(shop, "{ nope }")["errors"][0]["extensions"]["code"] == "undefinedField"
    assert "errors" in post(shop, "{ shop { name ")


def test_bulk_operation_runs_polls_and_serves_jsonl(shop):
    run = post(
        shop,
        shopify_client.BULK_RUN_QUERY,
        {"query": shopify_client.BULK_PRODUCTS_QUERY},
    )["data"]["bulkOperationRunQuery"]
    assert run["userErrors"] == [] and run["bulkOperation"]["status"] == "CREATED"
    gid = run["bulkOperation"]["id"]
    again = post(shop, shopify_client.BULK_RUN_QUERY, {"query": shopify_client.BULK_PRODUCTS_QUERY})
    assert (
        "already in progress" in again["data"]["bulkOperationRunQuery"]["userErrors"][0]["message"]
    )
    statuses = [
        post(shop, shopify_client.BULK_OPERATION_QUERY, {"id": gid})["data"]["node"]["status"]
        for _ in range(shop.bulk_polls + 1)
    ]
    assert statuses == ["RUNNING"] * shop.bulk_polls + ["COMPLETED"]
    done = post(shop, shopify_client.CURRENT_BULK_OPERATION_QUERY)["data"]["currentBulkOperation"]
    lines = [json.loads(line) for line in requests.get(done["url"], timeout=5).text.splitlines()]
    catalog = shop.catalog()
    roots = [line for line in lines if "__parentId" not in line]
    assert int(done["rootObjectCount"]) == len(roots) == len(catalog)
    assert int(done["objectCount"]) == len(lines)
    first = catalog[0]
    children = [line for line in lines if line.get("__parentId") == roots[0]["id"]]
    variants = [c for c in children if "sku" in c]
    assert [v["sku"] for v in variants] == [v["sku"] for v in first["variants"]]
    assert [c["image"]["url"] for c in children if "image" in c] == [
        i["src"] for i in first["images"]
    ]
    # children follow their parent, before the next product
    assert lines.index(roots[1]) == 1 + len(children)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ shop { name } }", "at least one connection"),
        (
            "{ products { edges { node { variants { edges { node { metafields { edges { node"
            " { id } } } } } } } } } }",
            "nested more than 2 levels",
        ),
        ("{ products { edges { node { id } } ", "Syntax Error"),
    ],
)
def test_bulk_query_restrictions(shop, query, message):
    answer = post(shop, shopify_client.BULK_RUN_QUERY, {"query": query})
    assert message in answer["data"]["bulkOperationRunQuery"]["userErrors"][0]["message"]


def test_wrong_token_and_path(shop):
    bad = requests.post(shop.api_url, json={"query": "{ shop { name } }"}, headers={}, timeout=5)
    assert bad.status_code == 401
    assert requests.get(f"{shop.url}{API_PATH}", timeout=5).status_code == 404
    assert requests.get(f"{shop.url}/bulk-results/9.jsonl", timeout=5).status_code == 404
