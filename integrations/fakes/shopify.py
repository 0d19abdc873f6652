"""A fake Shopify Admin GraphQL endpoint over the demo catalog and demo customers.

Every call goes through the same layer as on Shopify (`shopify_cost`): the document is parsed,
its requested cost computed (over 1,000: MAX_COST_EXCEEDED), the leaky bucket charged (short:
THROTTLED with `extensions.cost`), each root field resolved by `resolve_<field>(args)` into
canonical data, the answer shaped to the selection, and the unused cost refunded. Queries and
mutations alike: a new operation only needs a `resolve_<rootField>` method.

Bulk operations: `bulkOperationRunQuery` runs the given query over the whole data set (no cost
limit, Shopify's bulk restrictions enforced); `node(id:)` / `currentBulkOperation` report it
RUNNING for `bulk_polls` status reads, then COMPLETED with a `url` serving the JSONL result
(nested connections as separate lines carrying `__parentId`).
"""

import base64
import json
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from integrations.fakes import demo_data
from integrations.fakes import shopify_cost as cost
from integrations.fakes.server import FakeProvider, FakeResponse
from integrations.fakes.shopify_orders import OrderActionsMixin

API_PATH = "/admin/api/2025-07/graphql.json"
BULK_PATH = re.compile(r"^/bulk-results/(\d+)\.jsonl$")
BULK_MAX_CONNECTIONS = 5
BULK_MAX_DEPTH = 2


def _search_value(query: str, field: str) -> str | None:
    match = re.match(rf'^{field}:"?(.*?)"?$', query.strip())
    return match.group(1).replace('\\"', '"') if match else None


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class FakeShopify(OrderActionsMixin, FakeProvider):
    def __init__(
        self,
        *,
        access_token: str = "shpat_test",  # noqa: S107
        products: list[dict[str, Any]] | None = None,
        bucket_size: float = cost.BUCKET_SIZE,
        restore_rate: float = cost.RESTORE_RATE,
        clock: Callable[[], float] | None = None,
        bulk_polls: int = 2,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._init_order_state()
        self.access_token = access_token
        self.products = products
        self.bucket = cost.CostBucket(
            maximum=bucket_size, restore_rate=restore_rate, **({"clock": clock} if clock else {})
        )
        self.bulk_polls = bulk_polls
        self.bulk_operations: dict[int, dict[str, Any]] = {}
        self.bulk_failure: str | None = None
        self.costs: list[dict[str, Any]] = []  # operation, requested, actual per answered call
        self.throttles: list[dict[str, Any]] = []  # requested, available, wait_needed per refusal
        self._bulk_lock = threading.Lock()

    @property
    def api_url(self) -> str:
        return f"{self.url}{API_PATH}"

    def catalog(self) -> list[dict[str, Any]]:
        return self.products if self.products is not None else demo_data.catalog()

    def drain(self, points: float = 0.0) -> None:
        """Leave `points` in the bucket, as after a burst of other calls."""
        self.bucket.set_available(points)

    # Transport -------------------------------------------------------------------------------

    def handle(self, method, path, query, headers, body) -> FakeResponse:
        bulk = BULK_PATH.match(path)
        if method == "GET" and bulk:
            return self._bulk_file(int(bulk.group(1)))
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
        return FakeResponse(200, self.execute(body))

    def execute(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            op = cost.parse_operation(
                str(body["query"]),
                operation_name=body.get("operationName"),
                variables=body.get("variables"),
            )
            requested = cost.requested_cost(op)
        except cost.QueryError as exc:
            return {"errors": [exc.error]}
        if requested > cost.SINGLE_QUERY_MAX_COST:
            return cost.max_cost_exceeded(requested)
        if not self.bucket.take(requested):
            answer = cost.throttled(requested, self.bucket)
            status = answer["extensions"]["cost"]["throttleStatus"]
            self.throttles.append(
                {
                    "requested": requested,
                    "available": status["currentlyAvailable"],
                    "wait_needed": (requested - status["currentlyAvailable"])
                    / (status["restoreRate"] or 1),
                }
            )
            return answer
        try:
            shaped = {
                cost.response_key(field): cost.project_field(
                    op, field, self._resolve(op, field, is_mutation=op.is_mutation)
                )
                for field in op.root_fields
            }
        except cost.QueryError as exc:
            self.bucket.refund(requested)
            return {"errors": [exc.error]}
        actual = min(cost.actual_cost(op, shaped), requested)
        self.bucket.refund(requested - actual)
        self.costs.append(
            {"operation": body.get("operationName"), "requested": requested, "actual": actual}
        )
        return {"data": shaped, "extensions": cost.cost_extension(requested, actual, self.bucket)}

    def _resolve(self, op: cost.Operation, field, *, is_mutation: bool) -> Any:
        name = field.name.value
        resolver = getattr(self, f"resolve_{name}", None)
        if resolver is None:
            root = "Mutation" if is_mutation else "QueryRoot"
            raise cost.QueryError(
                f"Field '{name}' doesn't exist on type '{root}'", code="undefinedField"
            )
        return resolver(op.arguments(field))

    # Queries ---------------------------------------------------------------------------------

    def resolve_shop(self, args):
        return {"name": "Printdesk Demo Shop", "myshopifyDomain": "printdesk-demo.myshopify.com"}

    def resolve_customers(self, args):
        q = args.get("query") or ""
        email, phone = _search_value(q, "email"), _search_value(q, "phone")
        n = demo_data.customer_number(email=email or "", phone=phone or "")
        return {"nodes": [demo_data.shopify_customer(n)] if n else []}

    def resolve_customer(self, args):
        customer_id = int(str(args.get("id", "0")).rsplit("/", 1)[-1])
        n = customer_id - demo_data.shopify_customer_id(0)
        if not 1 <= n <= demo_data.MAX_CUSTOMERS:
            return None
        orders = [demo_data.shopify_order(x) for x in demo_data.order_numbers(n)]
        return {**demo_data.shopify_customer(n), "orders": {"nodes": orders}}

    def resolve_orders(self, args):
        name = _search_value(args.get("query") or "", "name") or ""
        digits = name.lstrip("#")
        number = int(digits) if digits.isdigit() else 0
        is_known = demo_data.owner_of_order(number) is not None
        return {"nodes": [demo_data.shopify_order(number)] if is_known else []}

    def resolve_product(self, args):
        product_id = int(str(args.get("id", "0")).rsplit("/", 1)[-1])
        found = [p for p in self.catalog() if p["id"] == product_id]
        return demo_data.shopify_product(found[0]) if found else None

    def resolve_productsCount(self, args):
        return {"count": len(self.catalog()), "precision": "EXACT"}

    def resolve_products(self, args):
        catalog = self.catalog()
        first = int(args.get("first") or 0)
        after = args.get("after")
        start = int(base64.b64decode(after).decode().split(":")[1]) + 1 if after else 0
        page = catalog[start : start + first]
        cursors = [base64.b64encode(f"idx:{start + i}".encode()).decode() for i in range(len(page))]
        return {
            "nodes": [demo_data.shopify_product(p) for p in page],
            "cursors": cursors,
            "pageInfo": {
                "hasNextPage": start + first < len(catalog),
                "hasPreviousPage": start > 0,
                "startCursor": cursors[0] if cursors else None,
                "endCursor": cursors[-1] if cursors else None,
            },
        }

    def resolve_node(self, args):
        gid = str(args.get("id") or "")
        if gid.startswith("gid://shopify/BulkOperation/"):
            return self._bulk_status(int(gid.rsplit("/", 1)[-1]))
        return None

    def resolve_currentBulkOperation(self, args):
        if (args.get("type") or "QUERY") != "QUERY" or not self.bulk_operations:
            return None
        return self._bulk_status(max(self.bulk_operations))

    # Bulk operations -------------------------------------------------------------------------

    def resolve_bulkOperationRunQuery(self, args):
        query = str(args.get("query") or "")
        try:
            inner = cost.parse_operation(query, operation_name=None, variables={})
            problem = _bulk_query_problem(inner)
        except cost.QueryError as exc:
            problem = exc.error["message"]
        if problem:
            return {"bulkOperation": None, "userErrors": [{"field": ["query"], "message": problem}]}
        with self._bulk_lock:
            running = [
                n for n, b in self.bulk_operations.items() if b["status"] in ("CREATED", "RUNNING")
            ]
            if running:
                gid = f"gid://shopify/BulkOperation/{running[0]}"
                return {
                    "bulkOperation": None,
                    "userErrors": [
                        {
                            "field": None,
                            "message": "A bulk query operation for this app and shop is already "
                            f"in progress: {gid}.",
                        }
                    ],
                }
            number = max(self.bulk_operations, default=0) + 1
            self.bulk_operations[number] = {
                "operation": inner,
                "query": query,
                "status": "CREATED",
                "reads": 0,
                "createdAt": _now(),
                "lines": None,
            }
        return {"bulkOperation": self._bulk_node(number), "userErrors": []}

    def _bulk_status(self, number: int) -> dict[str, Any] | None:
        with self._bulk_lock:
            bulk = self.bulk_operations.get(number)
            if bulk is None:
                return None
            if bulk["status"] in ("CREATED", "RUNNING"):
                bulk["reads"] += 1
                bulk["status"] = "RUNNING"
                if bulk["reads"] > self.bulk_polls:
                    self._finish_bulk(bulk)
        return self._bulk_node(number)

    def _finish_bulk(self, bulk: dict[str, Any]) -> None:
        bulk["completedAt"] = _now()
        if self.bulk_failure:
            bulk["status"], bulk["errorCode"] = "FAILED", self.bulk_failure
            bulk["lines"] = []
            return
        lines = list(_bulk_lines(bulk["operation"], self))
        bulk["status"] = "COMPLETED"
        bulk["lines"] = lines
        bulk["data"] = "".join(json.dumps(line) + "\n" for line in lines).encode()

    def _bulk_node(self, number: int) -> dict[str, Any]:
        bulk = self.bulk_operations[number]
        done = bulk["status"] == "COMPLETED"
        lines = bulk["lines"] or []
        objects = len(lines)
        roots = sum("__parentId" not in line for line in lines)
        if bulk["status"] == "RUNNING":
            # Shopify's running counts grow while it exports: a share of the products per poll.
            roots = objects = len(self.catalog()) * bulk["reads"] // (self.bulk_polls + 1)
        return {
            "__typename": "BulkOperation",
            "id": f"gid://shopify/BulkOperation/{number}",
            "status": bulk["status"],
            "type": "QUERY",
            "errorCode": bulk.get("errorCode"),
            "createdAt": bulk["createdAt"],
            "completedAt": bulk.get("completedAt"),
            "query": bulk["query"],
            "objectCount": str(objects),
            "rootObjectCount": str(roots),
            "fileSize": str(len(bulk["data"])) if done else None,
            "url": f"{self.url}/bulk-results/{number}.jsonl" if done else None,
            "partialDataUrl": None,
        }

    def _bulk_file(self, number: int) -> FakeResponse:
        bulk = self.bulk_operations.get(number)
        if bulk is None or bulk["status"] != "COMPLETED":
            return FakeResponse(404, "<Error><Code>NoSuchKey</Code></Error>", "application/xml")
        return FakeResponse(200, bulk["data"], "application/jsonl")

    def bulk_finish_webhook(self, number: int) -> dict[str, Any]:
        """The `bulk_operations/finish` webhook payload Shopify sends for operation `number`."""
        bulk = self.bulk_operations[number]
        return {
            "admin_graphql_api_id": f"gid://shopify/BulkOperation/{number}",
            "completed_at": bulk.get("completedAt"),
            "created_at": bulk["createdAt"],
            "error_code": (bulk.get("errorCode") or "").lower() or None,
            "status": bulk["status"].lower(),
            "type": "query",
        }


def _bulk_query_problem(op: cost.Operation) -> str | None:
    """Shopify's bulk query restrictions, as the userError message it would answer."""
    if op.is_mutation:
        return "Bulk queries cannot contain mutations."
    connections = [
        f for f in cost.iter_fields(op, op.definition.selection_set) if cost.is_connection(op, f)
    ]
    if not connections:
        return "Bulk queries must contain at least one connection."
    if len(connections) > BULK_MAX_CONNECTIONS:
        return f"Bulk queries cannot contain more than {BULK_MAX_CONNECTIONS} connections."
    if _connection_depth(op, op.definition.selection_set) > BULK_MAX_DEPTH:
        return f"Bulk queries cannot contain connections nested more than {BULK_MAX_DEPTH} levels."
    return None


def _connection_depth(op: cost.Operation, selection_set) -> int:
    depth = 0
    for field in op.fields(selection_set):
        inner = _connection_depth(op, field.selection_set)
        depth = max(depth, inner + (1 if cost.is_connection(op, field) else 0))
    return depth


def _node_selection(op: cost.Operation, connection):
    for part in op.fields(connection.selection_set):
        if part.name.value == "nodes":
            return part.selection_set
        if part.name.value == "edges":
            for node in op.fields(part.selection_set):
                if node.name.value == "node":
                    return node.selection_set
    return None


def _bulk_lines(op: cost.Operation, fake: FakeShopify) -> Iterator[dict[str, Any]]:
    """The JSONL result: every node of each connection on its own line, children right after
    their parent with `__parentId`; the root connection is read in full (no `first`)."""
    for field in op.root_fields:
        if field.name.value != "products":
            raise cost.QueryError(f"The fake serves bulk queries over products, not {field.name}.")
        selection = _node_selection(op, field)
        for product in fake.catalog():
            yield from _bulk_node_lines(op, selection, demo_data.shopify_product(product), None)


def _bulk_node_lines(op, selection, node, parent_id) -> Iterator[dict[str, Any]]:
    line, children = {}, []
    for field in op.fields(selection, node.get("__typename")):
        raw = node.get(field.name.value)
        if field.selection_set is not None and cost.is_connection(op, field):
            children.append((field, raw))
        else:
            line[cost.response_key(field)] = cost.project(op, field.selection_set, raw)
    if parent_id is not None:
        line["__parentId"] = parent_id
    yield line
    for field, raw in children:
        items = raw if isinstance(raw, list) else (raw or {}).get("nodes") or []
        for item in items:
            yield from _bulk_node_lines(op, _node_selection(op, field), item, node["id"])
