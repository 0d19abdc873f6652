"""Shopify's calculated query cost and leaky bucket, the layer every fake Admin GraphQL call passes.

The rules, from shopify.dev "GraphQL Admin API rate limits" (docs/shopify.md has the summary):
- A scalar or enum field costs 0, an object field 1 plus what is selected inside it. An
  interface or union (inline fragments here) costs the most expensive of its possible selections.
- A connection (a field sized by `first`/`last`) costs 2 plus `first`/`last` times the cost of one
  node (the node object's 1 plus its selection), so nested connections multiply.
- Each root field of a mutation costs 10.
- The requested cost is computed before anything runs; over 1,000 the call is refused with
  MAX_COST_EXCEEDED. The bucket (2,000 points, refilled 100 points/s on the Standard plan) must
  hold the requested cost, else the call is THROTTLED. After the call the difference between the
  requested and the actual cost (nodes really returned) goes back into the bucket.

No schema is loaded, so the shape of the query decides: a field with a selection set is an
object, one with `first`/`last` (or an `edges`/`nodes` selection) is a connection.
"""

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)
from graphql.utilities import value_from_ast_untyped

SINGLE_QUERY_MAX_COST = 1000
BUCKET_SIZE = 2000.0
RESTORE_RATE = 100.0
MUTATION_COST = 10
CONNECTION_COST = 2
OBJECT_COST = 1
DOCS_URL = "https://shopify.dev/api/usage/rate-limits"


class QueryError(Exception):
    """The document cannot run; `error` is the GraphQL error object Shopify would answer."""

    def __init__(self, message: str, *, code: str | None = None, **extensions: Any) -> None:
        super().__init__(message)
        self.error: dict[str, Any] = {"message": message}
        if code:
            self.error["extensions"] = {"code": code, **extensions}


@dataclass(frozen=True)
class Operation:
    """One parsed operation of a document, with its variables resolved."""

    document: DocumentNode
    definition: OperationDefinitionNode
    variables: dict[str, Any]

    @property
    def is_mutation(self) -> bool:
        return self.definition.operation == OperationType.MUTATION

    @property
    def root_fields(self) -> list[FieldNode]:
        return list(self.fields(self.definition.selection_set))

    def fields(self, selection_set: SelectionSetNode | None, typename: str | None = None):
        """The fields of a selection set, fragments expanded (those matching `typename`)."""
        for selection in selection_set.selections if selection_set else []:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if typename is None or condition is None or condition.name.value == typename:
                    yield from self.fields(selection.selection_set, typename)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self._fragment(selection.name.value)
                if typename is None or fragment.type_condition.name.value == typename:
                    yield from self.fields(fragment.selection_set, typename)

    def arguments(self, field: FieldNode) -> dict[str, Any]:
        return {
            arg.name.value: value_from_ast_untyped(arg.value, self.variables)
            for arg in field.arguments or ()
        }

    def _fragment(self, name: str) -> FragmentDefinitionNode:
        for definition in self.document.definitions:
            if isinstance(definition, FragmentDefinitionNode) and definition.name.value == name:
                return definition
        raise QueryError(f"Fragment {name} was not found in the document.")


def parse_operation(
    query: str, *, operation_name: str | None, variables: dict[str, Any] | None
) -> Operation:
    try:
        document = parse(query)
    except GraphQLSyntaxError as exc:
        raise QueryError(exc.message) from exc
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        raise QueryError(
            f"An operation named {operation_name!r} was not found in the document."
            if operation_name
            else "An operation name is required when the document has several operations."
        )
    definition = operations[0]
    resolved = dict(variables or {})
    for var in definition.variable_definitions or ():
        name = var.variable.name.value
        if name not in resolved and var.default_value is not None:
            resolved[name] = value_from_ast_untyped(var.default_value, {})
    return Operation(document=document, definition=definition, variables=resolved)


# Cost ---------------------------------------------------------------------------------------

CONNECTION_PARTS = {"edges", "nodes", "pageInfo"}


def is_connection(op: Operation, field: FieldNode) -> bool:
    args = op.arguments(field)
    if "first" in args or "last" in args:
        return True
    return any(f.name.value in CONNECTION_PARTS for f in op.fields(field.selection_set))


def page_size(op: Operation, field: FieldNode) -> int | None:
    args = op.arguments(field)
    size = args.get("first") if args.get("first") is not None else args.get("last")
    return int(size) if size is not None else None


def requested_cost(op: Operation) -> int:
    if op.is_mutation:
        return sum(
            MUTATION_COST + _selection_cost(op, f.selection_set, in_mutation=True)
            for f in op.root_fields
        )
    return _selection_cost(op, op.definition.selection_set)


def _selection_cost(
    op: Operation, selection_set: SelectionSetNode | None, *, in_mutation: bool = False
) -> int:
    """Direct fields add up; inline fragments on different types count only the dearest."""
    if selection_set is None:
        return 0
    total, fragments = 0, []
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += _field_cost(op, selection, in_mutation=in_mutation)
        else:
            fragments.append(
                _selection_cost(
                    op,
                    selection.selection_set
                    if isinstance(selection, InlineFragmentNode)
                    else op._fragment(selection.name.value).selection_set,
                    in_mutation=in_mutation,
                )
            )
    return total + max(fragments, default=0)


def _field_cost(op: Operation, field: FieldNode, *, in_mutation: bool) -> int:
    if field.selection_set is None:
        return 0
    if not is_connection(op, field):
        return OBJECT_COST + _selection_cost(op, field.selection_set, in_mutation=in_mutation)
    size = page_size(op, field)
    if size is None:
        raise QueryError(
            f"you must provide one of first or last (field '{field.name.value}')",
            code="argumentLiteralsIncompatible",
        )
    return CONNECTION_COST + size * _node_cost(op, field.selection_set)


def _node_cost(op: Operation, selection_set: SelectionSetNode) -> int:
    """What one node of a connection costs: `nodes`/`edges.node` objects, `pageInfo` is free.
    A sized list (`fulfillments(first: 5)`) has no wrapper: each element is an object."""
    if not any(f.name.value in CONNECTION_PARTS for f in op.fields(selection_set)):
        return OBJECT_COST + _selection_cost(op, selection_set)
    cost = 0
    for field in op.fields(selection_set):
        name = field.name.value
        if name == "nodes":
            cost += OBJECT_COST + _selection_cost(op, field.selection_set)
        elif name == "edges":
            for part in op.fields(field.selection_set):
                if part.name.value == "node":
                    cost += OBJECT_COST + _selection_cost(op, part.selection_set)
        elif name != "pageInfo":
            cost += _field_cost(op, field, in_mutation=False)
    return cost


def actual_cost(op: Operation, data: dict[str, Any] | None) -> int:
    """The same rules over what was returned: connections count the nodes they hold."""
    if data is None:
        return 0
    if op.is_mutation:
        return sum(
            MUTATION_COST + _actual_selection(op, f.selection_set, data.get(response_key(f)))
            for f in op.root_fields
        )
    return _actual_selection(op, op.definition.selection_set, data)


def _actual_selection(op: Operation, selection_set: SelectionSetNode | None, value: Any) -> int:
    if selection_set is None or not isinstance(value, dict):
        return 0
    typename = value.get("__typename")
    return sum(
        _actual_field(op, field, value.get(response_key(field)))
        for field in op.fields(selection_set, typename)
    )


def _actual_field(op: Operation, field: FieldNode, value: Any) -> int:
    if field.selection_set is None:
        return 0
    if not is_connection(op, field):
        items = value if isinstance(value, list) else [value]
        return OBJECT_COST + max(
            (_actual_selection(op, field.selection_set, item) for item in items), default=0
        )
    if value is None:
        return CONNECTION_COST
    if isinstance(value, list):  # a sized list (Order.fulfillments)
        return CONNECTION_COST + sum(
            OBJECT_COST + _actual_selection(op, field.selection_set, item) for item in value
        )
    cost = CONNECTION_COST
    for part in op.fields(field.selection_set):
        name = part.name.value
        if name == "nodes":
            cost += sum(
                OBJECT_COST + _actual_selection(op, part.selection_set, node)
                for node in value.get(response_key(part)) or []
            )
        elif name == "edges":
            for edge in value.get(response_key(part)) or []:
                for node_field in op.fields(part.selection_set):
                    if node_field.name.value == "node":
                        cost += OBJECT_COST + _actual_selection(
                            op, node_field.selection_set, edge.get(response_key(node_field))
                        )
        elif name != "pageInfo":
            cost += _actual_field(op, part, value.get(response_key(part)))
    return cost


def response_key(field: FieldNode) -> str:
    return field.alias.value if field.alias else field.name.value


# Projection ---------------------------------------------------------------------------------


def project(op: Operation, selection_set: SelectionSetNode | None, value: Any) -> Any:
    """Shape a resolver's canonical data the way the query asked (aliases, only selected fields,
    connections as `nodes` and/or `edges`, nested connections cut to `first`/`last`).

    Canonical connections are `{"nodes": [...], "pageInfo": {...}}` or plain lists; a resolver
    that paginates itself sets `pageInfo` and `cursors`.
    """
    if selection_set is None or value is None:
        return value
    if isinstance(value, list):
        return [project(op, selection_set, item) for item in value]
    return {
        response_key(field): project_field(op, field, value.get(field.name.value))
        for field in op.fields(selection_set, value.get("__typename"))
    }


def project_field(op: Operation, field: FieldNode, raw: Any) -> Any:
    """One field's canonical value shaped by its selection. A callable value is a field with
    arguments of its own (e.g. `Order.suggestedRefund(refundLineItems:)`), resolved with them."""
    if callable(raw):
        raw = raw(op.arguments(field))
    if field.selection_set is not None and is_connection(op, field):
        return _project_connection(op, field, raw)
    return project(op, field.selection_set, raw)


def _project_connection(op: Operation, field: FieldNode, raw: Any) -> Any:
    if raw is None:
        return None
    size = page_size(op, field)
    if isinstance(raw, list):
        return project(op, field.selection_set, raw[:size] if size is not None else raw)
    items = raw.get("nodes") or []
    page_info = raw.get("pageInfo")
    cursors = raw.get("cursors") or [f"cursor:{i}" for i in range(len(items))]
    if page_info is None:
        after = op.arguments(field).get("after")
        start = cursors.index(after) + 1 if after in cursors else 0
        items, cursors = items[start:], cursors[start:]
        is_last = "last" in op.arguments(field) and "first" not in op.arguments(field)
        window = slice(-size, None) if is_last and size else slice(0, size)
        kept, kept_cursors = items[window], cursors[window]
        page_info = {
            "hasNextPage": not is_last and size is not None and len(items) > size,
            "hasPreviousPage": start > 0
            or bool(is_last and size is not None and len(items) > size),
            "startCursor": kept_cursors[0] if kept_cursors else None,
            "endCursor": kept_cursors[-1] if kept_cursors else None,
        }
        items, cursors = kept, kept_cursors
    result = {}
    for part in op.fields(field.selection_set):
        name = part.name.value
        if name == "nodes":
            result[response_key(part)] = project(op, part.selection_set, items)
        elif name == "edges":
            edges = [{"node": node, "cursor": c} for node, c in zip(items, cursors, strict=True)]
            result[response_key(part)] = project(op, part.selection_set, edges)
        elif name == "pageInfo":
            result[response_key(part)] = project(op, part.selection_set, page_info)
        else:
            result[response_key(part)] = project(op, part.selection_set, raw.get(name))
    return result


# Bucket -------------------------------------------------------------------------------------


class CostBucket:
    """Shopify's leaky bucket for one app and shop. `clock` is injectable so tests need not wait."""

    def __init__(
        self,
        *,
        maximum: float = BUCKET_SIZE,
        restore_rate: float = RESTORE_RATE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self.clock = clock
        self._available = maximum
        self._at = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self._available = min(self.maximum, self._available + (now - self._at) * self.restore_rate)
        self._at = now

    def take(self, cost: int) -> bool:
        """Spend `cost` if the bucket holds it; else spend nothing and answer False."""
        with self._lock:
            self._refill()
            if cost > self._available:
                return False
            self._available -= cost
            return True

    def refund(self, points: int) -> None:
        with self._lock:
            self._refill()
            self._available = min(self.maximum, self._available + points)

    def set_available(self, points: float) -> None:
        """Tests: start from a drained or partly used bucket."""
        with self._lock:
            self._available, self._at = points, self.clock()

    def status(self) -> dict[str, float]:
        with self._lock:
            self._refill()
            return {
                "maximumAvailable": float(self.maximum),
                "currentlyAvailable": float(int(self._available)),
                "restoreRate": float(self.restore_rate),
            }


class VirtualClock:
    """A monotonic clock that `sleep` moves forward instantly: tests share it between the fake's
    bucket and the client's waits, so a client that waits too little is throttled again."""

    def __init__(self) -> None:
        self._now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._now += seconds


def cost_extension(
    requested: int, actual: int | None, bucket: CostBucket
) -> dict[str, dict[str, Any]]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": bucket.status(),
        }
    }


def max_cost_exceeded(cost: int) -> dict[str, Any]:
    return {
        "errors": [
            QueryError(
                f"Query cost is {cost}, which exceeds the single query max cost limit "
                f"({SINGLE_QUERY_MAX_COST}).\n\nSee {DOCS_URL} for more information on how the "
                "cost of a query is calculated.\n\nTo query larger amounts of data with fewer "
                "limits, bulk operations should be used instead.",
                code="MAX_COST_EXCEEDED",
                cost=cost,
                maxCost=SINGLE_QUERY_MAX_COST,
                documentation=DOCS_URL,
            ).error
        ]
    }


def throttled(requested: int, bucket: CostBucket) -> dict[str, Any]:
    return {
        "errors": [QueryError("Throttled", code="THROTTLED", documentation=DOCS_URL).error],
        "extensions": cost_extension(requested, None, bucket),
    }


def iter_fields(op: Operation, selection_set: SelectionSetNode | None) -> Iterator[FieldNode]:
    """Every field below a selection set, depth first (bulk query validation walks it)."""
    for field in op.fields(selection_set):
        yield field
        yield from iter_fields(op, field.selection_set)
