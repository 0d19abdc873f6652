"""Shopify Admin GraphQL client (`SHOPIFY_API_URL` is the versioned graphql.json endpoint).

Handles transport errors, top-level GraphQL `errors`, mutation `userErrors`, and cost-based
throttling: a THROTTLED answer waits until the bucket holds the requested cost (from
`extensions.cost.throttleStatus`) and tries again. No database access here.
"""

import json
import logging
import math
import time
from collections.abc import Iterator
from typing import Any

import requests
from django.conf import settings

from integrations.clients import ProviderUnavailable
from integrations.http_retry import (
    CodedProviderError,
    ProviderHttpClient,
    ProviderNotConfigured,
    RetryPolicy,
)
from integrations.perp.types import ConnectionCheck
from integrations.shopify.types import (
    BulkOperation,
    ProductPage,
    ShopifyCustomer,
    ShopifyOrder,
    ShopifyProduct,
    ShopInfo,
)

logger = logging.getLogger(__name__)


class ShopifyError(CodedProviderError):
    provider = "shopify"


class ShopifyUnavailable(ShopifyError, ProviderUnavailable):
    default_code = "unavailable"


class ShopifyNotConfigured(ShopifyError, ProviderNotConfigured):
    pass


class ShopifyAuthFailed(ShopifyError):
    default_code = "auth_failed"


class ShopifyThrottled(ShopifyError, ProviderUnavailable):
    default_code = "throttled"


class ShopifyGraphQLError(ShopifyError):
    """Top-level `errors` (bad query, access denied to a field, ...) or an unusable answer."""

    default_code = "bad_response"


class ShopifyQueryTooCostly(ShopifyGraphQLError):
    """MAX_COST_EXCEEDED: the query's requested cost is over Shopify's single-query limit."""

    default_code = "max_cost_exceeded"


class ShopifyUserError(ShopifyError):
    """A mutation's `userErrors`: Shopify understood and refused the input."""

    default_code = "rejected"

    def __init__(self, message: str, *, user_errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.user_errors = user_errors


CUSTOMER_FIELDS = """
  id displayName firstName lastName state tags createdAt updatedAt numberOfOrders
  defaultEmailAddress { emailAddress }
  defaultPhoneNumber { phoneNumber }
  amountSpent { amount currencyCode }
"""

ORDER_FIELDS = """
  id name createdAt updatedAt cancelledAt statusPageUrl
  displayFinancialStatus displayFulfillmentStatus
  customer { id }
  totalPriceSet { shopMoney { amount currencyCode } }
  lineItems(first: 20) { nodes { title quantity sku variantTitle } }
  fulfillments(first: 5) { status trackingInfo(first: 3) { company number url } }
"""

FIND_CUSTOMERS_QUERY = f"""
query FindCustomers($query: String!) {{
  customers(first: 5, query: $query) {{ nodes {{ {CUSTOMER_FIELDS} }} }}
}}"""

CUSTOMER_ORDERS_QUERY = f"""
query CustomerWithOrders($id: ID!, $first: Int!) {{
  customer(id: $id) {{
    {CUSTOMER_FIELDS}
    orders(first: $first, sortKey: CREATED_AT, reverse: true) {{ nodes {{ {ORDER_FIELDS} }} }}
  }}
}}"""

ORDER_BY_NAME_QUERY = f"""
query OrderByName($query: String!) {{
  orders(first: 1, query: $query) {{ nodes {{ {ORDER_FIELDS} }} }}
}}"""

# Shopify's calculated query cost (docs/shopify.md): scalars 0, objects 1, a connection 2 plus
# `first` x one node. The product page size follows from what one product costs, so a page
# stays under the 1,000-point single-query limit (tests check this against the fake's calculator).
MAX_QUERY_COST = 1000
CONNECTION_COST = 2
VARIANTS_PER_PRODUCT = 100
MEDIA_PER_PRODUCT = 10
VARIANT_COST = 1 + 1  # the variant node + selectedOptions (a list of objects)
MEDIA_COST = 1 + 1  # the media node + its image
PRODUCT_COST = (
    1
    + CONNECTION_COST
    + VARIANTS_PER_PRODUCT * VARIANT_COST
    + CONNECTION_COST
    + MEDIA_PER_PRODUCT * MEDIA_COST
)
PRODUCT_PAGE_SIZE = (MAX_QUERY_COST - CONNECTION_COST) // PRODUCT_COST
MAX_PAGE_SIZE = 250  # Shopify's cap on first/last
EXTRA_VARIANTS_PAGE_SIZE = min(
    MAX_PAGE_SIZE, (MAX_QUERY_COST - 1 - CONNECTION_COST) // VARIANT_COST
)

VARIANT_FIELDS = "id title sku price selectedOptions { name value }"
MEDIA_FIELDS = "... on MediaImage { image { url altText } }"
PRODUCT_FIELDS = "id title handle productType vendor tags descriptionHtml status updatedAt"

PRODUCTS_QUERY = f"""
query Products($first: Int!, $after: String) {{
  products(first: $first, after: $after, sortKey: ID) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      {PRODUCT_FIELDS}
      variants(first: {VARIANTS_PER_PRODUCT}) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {VARIANT_FIELDS} }}
      }}
      media(first: {MEDIA_PER_PRODUCT}) {{ nodes {{ {MEDIA_FIELDS} }} }}
    }}
  }}
}}"""

PRODUCT_VARIANTS_QUERY = f"""
query ProductVariants($id: ID!, $first: Int!, $after: String) {{
  product(id: $id) {{
    variants(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {VARIANT_FIELDS} }}
    }}
  }}
}}"""

PRODUCTS_COUNT_QUERY = "query ProductsCount { productsCount { count } }"

# A bulk query has no cost limit and ignores `first`; Shopify allows at most five connections,
# nested two levels deep, and writes each nested node on its own JSONL line with `__parentId`.
BULK_PRODUCTS_QUERY = f"""
{{
  products {{
    edges {{
      node {{
        {PRODUCT_FIELDS}
        variants {{ edges {{ node {{ {VARIANT_FIELDS} }} }} }}
        media {{ edges {{ node {{ {MEDIA_FIELDS} }} }} }}
      }}
    }}
  }}
}}"""

BULK_OPERATION_FIELDS = """
  id status errorCode objectCount rootObjectCount url partialDataUrl createdAt completedAt
"""

BULK_RUN_QUERY = f"""
mutation BulkOperationRunQuery($query: String!) {{
  bulkOperationRunQuery(query: $query) {{
    bulkOperation {{ {BULK_OPERATION_FIELDS} }}
    userErrors {{ field message }}
  }}
}}"""

BULK_OPERATION_QUERY = f"""
query BulkOperation($id: ID!) {{
  node(id: $id) {{ ... on BulkOperation {{ {BULK_OPERATION_FIELDS} }} }}
}}"""

CURRENT_BULK_OPERATION_QUERY = f"""
query CurrentBulkOperation {{
  currentBulkOperation(type: QUERY) {{ {BULK_OPERATION_FIELDS} query }}
}}"""

SHOP_QUERY = "query Shop { shop { name myshopifyDomain } }"


class ShopifyClient(ProviderHttpClient):
    """`SHOPIFY_API_URL` is the whole endpoint: requests go to the base URL itself."""

    timeout = (3.05, 15)
    unavailable = ShopifyUnavailable
    max_throttle_waits = 5

    def __init__(
        self,
        *,
        api_url: str,
        access_token: str,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> None:
        if not api_url:
            raise ShopifyNotConfigured("Shopify is not configured (SHOPIFY_API_URL is empty).")
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "Printdesk/1.0",
            "X-Shopify-Access-Token": access_token,
        }
        super().__init__(base_url=api_url, headers=headers, retry=retry, timeout=timeout)

    @classmethod
    def from_settings(
        cls, *, retry: RetryPolicy | None = None, timeout: tuple[float, float] | None = None
    ) -> "ShopifyClient":
        return cls(
            api_url=settings.SHOPIFY_API_URL,
            access_token=settings.SHOPIFY_ACCESS_TOKEN,
            retry=retry,
            timeout=timeout,
        )

    @staticmethod
    def is_configured() -> bool:
        return bool(settings.SHOPIFY_API_URL)

    # Queries -------------------------------------------------------------------------------

    def find_customer_by_email(self, email: str) -> ShopifyCustomer | None:
        return self._find_customer(f"email:{_quote(email)}")

    def find_customer_by_phone(self, phone: str) -> ShopifyCustomer | None:
        return self._find_customer(f"phone:{_quote(phone)}")

    def get_customer_with_orders(
        self, customer_id: int, *, first: int = 10
    ) -> tuple[ShopifyCustomer, list[ShopifyOrder]] | None:
        data = self.execute(
            CUSTOMER_ORDERS_QUERY,
            {"id": f"gid://shopify/Customer/{int(customer_id)}", "first": first},
            operation="CustomerWithOrders",
        )
        node = data.get("customer")
        if node is None:
            return None
        orders = [ShopifyOrder.from_graphql(o) for o in (node.get("orders") or {}).get("nodes", [])]
        return ShopifyCustomer.from_graphql(node), orders

    def get_order_by_name(self, name: str) -> ShopifyOrder | None:
        name = name if name.startswith("#") else f"#{name}"
        data = self.execute(
            ORDER_BY_NAME_QUERY, {"query": f"name:{_quote(name)}"}, operation="OrderByName"
        )
        nodes = (data.get("orders") or {}).get("nodes") or []
        return ShopifyOrder.from_graphql(nodes[0]) if nodes else None

    def list_products(
        self, *, first: int = PRODUCT_PAGE_SIZE, after: str | None = None
    ) -> ProductPage:
        """One page of products; a product with more variants than fit in the page query gets
        the rest from follow-up queries, so no variant is lost."""
        if not 1 <= first <= PRODUCT_PAGE_SIZE:
            raise ValueError(f"A products page holds 1 to {PRODUCT_PAGE_SIZE} products.")
        data = self.execute(PRODUCTS_QUERY, {"first": first, "after": after}, operation="Products")
        products = data.get("products") or {}
        page_info = products.get("pageInfo") or {}
        nodes = [self._with_all_variants(node) for node in products.get("nodes") or []]
        return ProductPage(
            products=[ShopifyProduct.from_graphql(n) for n in nodes],
            end_cursor=page_info.get("endCursor"),
            has_next_page=bool(page_info.get("hasNextPage")),
        )

    def _with_all_variants(self, node: dict[str, Any]) -> dict[str, Any]:
        variants = node.get("variants") or {}
        nodes = list(variants.get("nodes") or [])
        page_info = variants.get("pageInfo") or {}
        while page_info.get("hasNextPage"):
            data = self.execute(
                PRODUCT_VARIANTS_QUERY,
                {
                    "id": node["id"],
                    "first": EXTRA_VARIANTS_PAGE_SIZE,
                    "after": page_info.get("endCursor"),
                },
                operation="ProductVariants",
            )
            more = ((data.get("product") or {}).get("variants")) or {}
            nodes += more.get("nodes") or []
            page_info = more.get("pageInfo") or {}
        return {**node, "variants": {"nodes": nodes}}

    def count_products(self) -> int:
        data = self.execute(PRODUCTS_COUNT_QUERY, {}, operation="ProductsCount")
        return int((data.get("productsCount") or {}).get("count") or 0)

    # Bulk operations -----------------------------------------------------------------------

    def start_bulk_query(self, query: str) -> BulkOperation:
        """`bulkOperationRunQuery`; Shopify runs one bulk query per app and shop at a time."""
        data = self.execute(
            BULK_RUN_QUERY,
            {"query": query},
            operation="BulkOperationRunQuery",
            mutation_field="bulkOperationRunQuery",
        )
        node = (data.get("bulkOperationRunQuery") or {}).get("bulkOperation")
        if not node:
            raise ShopifyGraphQLError("Shopify did not create the bulk operation.")
        return BulkOperation.from_graphql(node)

    def get_bulk_operation(self, operation_id: str) -> BulkOperation | None:
        data = self.execute(BULK_OPERATION_QUERY, {"id": operation_id}, operation="BulkOperation")
        node = data.get("node")
        return BulkOperation.from_graphql(node) if node else None

    def current_bulk_operation(self) -> tuple[BulkOperation, str] | None:
        """The app's latest bulk query and its query text (to adopt one already running)."""
        data = self.execute(CURRENT_BULK_OPERATION_QUERY, {}, operation="CurrentBulkOperation")
        node = data.get("currentBulkOperation")
        return (BulkOperation.from_graphql(node), node.get("query") or "") if node else None

    def stream_bulk_result(self, url: str) -> Iterator[dict[str, Any]]:
        """The JSONL result, one parsed line at a time, without holding the file in memory.

        The URL is a signed storage link: it gets no access token.
        """
        try:
            with requests.get(url, stream=True, timeout=self.timeout) as response:
                if response.status_code != 200:
                    raise ShopifyUnavailable(
                        f"The bulk result download answered {response.status_code}."
                    )
                for raw in response.iter_lines():
                    if raw.strip():
                        yield json.loads(raw)
        except requests.RequestException as exc:
            raise ShopifyUnavailable(f"The bulk result download failed: {exc}") from exc
        except ValueError as exc:
            raise ShopifyGraphQLError("The bulk result holds a line that is not JSON.") from exc

    def get_shop(self) -> ShopInfo:
        shop = self.execute(SHOP_QUERY, {}, operation="Shop").get("shop") or {}
        return ShopInfo(name=shop.get("name") or "", domain=shop.get("myshopifyDomain") or "")

    def test_connection(self) -> ConnectionCheck:
        """Never raises for provider trouble: the admin shows the result as it is."""
        started = time.monotonic()
        try:
            shop = self.get_shop()
        except ShopifyError as exc:
            return ConnectionCheck(ok=False, detail=f"{exc.code}: {exc}")
        latency = int((time.monotonic() - started) * 1000)
        return ConnectionCheck(ok=True, detail=f"{shop.name} ({shop.domain})", latency_ms=latency)

    # Transport -----------------------------------------------------------------------------

    def execute(
        self,
        query: str,
        variables: dict[str, Any],
        *,
        operation: str,
        mutation_field: str | None = None,
    ) -> dict[str, Any]:
        """POST one GraphQL document and return `data`, waiting out THROTTLED answers.

        Queries are idempotent and retried on 5xx/timeouts; mutations (with `mutation_field`,
        whose `userErrors` are checked) are sent once.
        """
        body = {"query": query, "variables": variables, "operationName": operation}
        for attempt in range(self.max_throttle_waits + 1):
            response = self.request("POST", "", idempotent=mutation_field is None, json=body)
            payload = self._json(response)
            wait = _throttle_wait(payload)
            if wait is None:
                return self._data(payload, mutation_field)
            if attempt == self.max_throttle_waits or wait == math.inf:
                break
            logger.info("shopify.throttled operation=%s wait=%.2fs", operation, wait)
            self.retry.pause(wait)
        raise ShopifyThrottled(f"Shopify kept throttling {operation}.")

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        status = response.status_code
        if status in (401, 403):
            raise ShopifyAuthFailed(f"Shopify refused the access token ({status}).")
        if status == 429 or status >= 500:
            raise ShopifyUnavailable(f"Shopify answered {status}.")
        if status >= 400:
            raise ShopifyGraphQLError(f"Shopify answered {status}: {response.text[:200]}")
        try:
            payload = response.json()
        except ValueError as exc:
            raise ShopifyGraphQLError("Shopify sent invalid JSON.") from exc
        if not isinstance(payload, dict):
            raise ShopifyGraphQLError("Shopify sent an unexpected JSON document.")
        return payload

    @staticmethod
    def _data(payload: dict[str, Any], mutation_field: str | None) -> dict[str, Any]:
        errors = payload.get("errors")
        if errors:
            messages = (
                errors
                if isinstance(errors, str)
                else "; ".join(e.get("message", "?") for e in errors)
            )
            codes = (
                []
                if isinstance(errors, str)
                else [(e.get("extensions") or {}).get("code") for e in errors]
            )
            if "ACCESS_DENIED" in codes:
                raise ShopifyAuthFailed(f"Shopify denied access: {messages}")
            if "MAX_COST_EXCEEDED" in codes:
                raise ShopifyQueryTooCostly(f"Shopify refused the query's cost: {messages}")
            raise ShopifyGraphQLError(f"Shopify GraphQL errors: {messages}")
        data = payload.get("data")
        if not isinstance(data, dict):
            raise ShopifyGraphQLError("Shopify answered without data.")
        if mutation_field:
            result = data.get(mutation_field) or {}
            # orderCancel reports in `orderCancelUserErrors` (its `userErrors` is deprecated).
            user_errors = result.get("userErrors") or result.get(f"{mutation_field}UserErrors")
            user_errors = user_errors or []
            if user_errors:
                raise ShopifyUserError(
                    "; ".join(e.get("message", "?") for e in user_errors), user_errors=user_errors
                )
        return data

    def _find_customer(self, query: str) -> ShopifyCustomer | None:
        data = self.execute(FIND_CUSTOMERS_QUERY, {"query": query}, operation="FindCustomers")
        nodes = (data.get("customers") or {}).get("nodes") or []
        return ShopifyCustomer.from_graphql(nodes[0]) if nodes else None


def _throttle_wait(payload: dict[str, Any]) -> float | None:
    """Seconds to wait when the answer is THROTTLED, else None.

    Shopify's leaky bucket refills `restoreRate` points per second; we wait until it holds the
    query's `requestedQueryCost`.
    """
    errors = payload.get("errors")
    if not isinstance(errors, list) or not any(
        (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors
    ):
        return None
    cost = (payload.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    requested = float(cost.get("requestedQueryCost") or 0)
    available = float(status.get("currentlyAvailable") or 0)
    maximum = float(status.get("maximumAvailable") or requested)
    rate = float(status.get("restoreRate") or 0)
    if requested > maximum or rate <= 0:
        return math.inf  # the bucket can never hold this query
    return max((requested - available) / rate, 0.0) + 0.05


def _quote(value: str) -> str:
    """Shopify search syntax: quote values so spaces and colons stay part of the term."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
