"""A fake Shopify Admin GraphQL endpoint serving the demo catalog and demo customers.

It understands the client's named operations (by `operationName`), not arbitrary GraphQL.
`throttle_next(n)` answers the next n calls THROTTLED with Shopify's cost extension.
"""

import base64
import re
from typing import Any

from integrations.fakes import demo_data
from integrations.fakes.server import FakeProvider, FakeResponse

API_PATH = "/admin/api/2025-07/graphql.json"
THROTTLE_STATUS = {"maximumAvailable": 2000.0, "currentlyAvailable": 0.0, "restoreRate": 100.0}


def _search_value(query: str, field: str) -> str | None:
    match = re.match(rf'^{field}:"?(.*?)"?$', query.strip())
    return match.group(1).replace('\\"', '"') if match else None


class FakeShopify(FakeProvider):
    def __init__(self, *, access_token: str = "shpat_test", **kwargs: Any) -> None:  # noqa: S107
        super().__init__(**kwargs)
        self.access_token = access_token
        self._throttles = 0

    @property
    def api_url(self) -> str:
        return f"{self.url}{API_PATH}"

    def throttle_next(self, count: int) -> None:
        self._throttles += count

    def handle(self, method, path, query, headers, body) -> FakeResponse:
        if method != "POST" or path != API_PATH:
            return FakeResponse(404, {"errors": "Not Found"})
        if headers.get("X-Shopify-Access-Token") != self.access_token:
            return FakeResponse(
                401,
                {
                    "errors": "[API] Invalid API key or access token (unrecognized login or wrong "
                    "password)"
                },
            )
        if not isinstance(body, dict) or "query" not in body:
            return FakeResponse(400, {"errors": {"query": "Required parameter missing"}})
        cost = {
            "requestedQueryCost": 52,
            "actualQueryCost": None,
            "throttleStatus": THROTTLE_STATUS,
        }
        if self._throttles:
            self._throttles -= 1
            return FakeResponse(
                200,
                {
                    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": {"cost": cost},
                },
            )
        operation = body.get("operationName") or ""
        variables = body.get("variables") or {}
        resolver = getattr(self, f"op_{operation}", None)
        if resolver is None:
            return FakeResponse(
                200,
                {
                    "errors": [
                        {
                            "message": f"Unknown operation '{operation}'",
                            "extensions": {"code": "undefinedField"},
                        }
                    ]
                },
            )
        cost = {
            **cost,
            "actualQueryCost": 12,
            "throttleStatus": {**THROTTLE_STATUS, "currentlyAvailable": 1988.0},
        }
        return FakeResponse(200, {"data": resolver(variables), "extensions": {"cost": cost}})

    # Operations ------------------------------------------------------------------------------

    def op_Shop(self, variables):
        return {
            "shop": {
                "name": "Printdesk Demo Shop",
                "myshopifyDomain": "printdesk-demo.myshopify.com",
            }
        }

    def op_FindCustomers(self, variables):
        q = variables.get("query") or ""
        email, phone = _search_value(q, "email"), _search_value(q, "phone")
        n = demo_data.customer_number(email=email or "", phone=phone or "")
        nodes = [demo_data.shopify_customer(n)] if n else []
        return {"customers": {"nodes": nodes}}

    def op_CustomerWithOrders(self, variables):
        customer_id = int(str(variables.get("id", "0")).rsplit("/", 1)[-1])
        n = customer_id - demo_data.shopify_customer_id(0)
        if not 1 <= n <= demo_data.MAX_CUSTOMERS:
            return {"customer": None}
        first = int(variables.get("first") or 10)
        orders = [demo_data.shopify_order(x) for x in demo_data.order_numbers(n)[:first]]
        return {"customer": {**demo_data.shopify_customer(n), "orders": {"nodes": orders}}}

    def op_OrderByName(self, variables):
        name = _search_value(variables.get("query") or "", "name") or ""
        digits = name.lstrip("#")
        number = int(digits) if digits.isdigit() else 0
        nodes = [demo_data.shopify_order(number)] if demo_data.owner_of_order(number) else []
        return {"orders": {"nodes": nodes}}

    def op_Products(self, variables):
        catalog = demo_data.catalog()
        first = max(1, min(int(variables.get("first") or 50), 250))
        after = variables.get("after")
        start = int(base64.b64decode(after).decode().split(":")[1]) + 1 if after else 0
        page = catalog[start : start + first]
        end = start + len(page) - 1
        return {
            "products": {
                "pageInfo": {
                    "hasNextPage": start + first < len(catalog),
                    "endCursor": base64.b64encode(f"idx:{end}".encode()).decode() if page else None,
                },
                "nodes": [demo_data.shopify_product(p) for p in page],
            }
        }
