"""Order actions of the fake Shopify Admin GraphQL server: the order read for actions, refunds
(with `suggestedRefund`), cancellation, shipping-address edits, draft orders (reprints) and
discount codes, with Shopify's rules and `userErrors` shapes (docs/privacy.md has the scopes).

Resolvers follow the fake's cost layer (`shopify.py`): `resolve_<rootField>(args)` returns the
field's canonical value, which the layer charges, shapes to the selection and refunds. A field
with arguments of its own (`Order.suggestedRefund`) is a callable the layer resolves with them.
State lives on the server instance (`self.order_state`), seeded lazily from the demo data, so a
refund really lowers what is refundable and a cancelled order stays cancelled. Every request is
in `self.requests` (FakeProvider), so tests assert on what was sent. Each demo order has a
$9.95 shipping line in this model (the read-only demo shapes show item totals only).
"""

import itertools
import threading
from decimal import Decimal
from typing import Any

from integrations.fakes import demo_data

SHIPPING = Decimal("9.95")
CANCEL_REASONS = {"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"}


def _money(amount: Decimal, currency: str = "USD") -> dict[str, Any]:
    return {"shopMoney": {"amount": f"{amount:.2f}", "currencyCode": currency}}


def _error(field: list[str] | None, message: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"field": field, "message": message}
    if code is not None:
        error["code"] = code
    return error


def _gid_number(gid: Any, kind: str) -> int | None:
    prefix = f"gid://shopify/{kind}/"
    text = str(gid or "")
    if not text.startswith(prefix) or not text[len(prefix) :].isdigit():
        return None
    return int(text[len(prefix) :])


def order_gid(number: int) -> str:
    return f"gid://shopify/Order/{5_000_000_000 + number}"


class OrderActionsMixin:
    """Mixed into FakeShopify: the `resolve_<rootField>` resolvers of the order actions."""

    def _init_order_state(self) -> None:
        self.order_state: dict[int, dict[str, Any]] = {}
        self.draft_orders: dict[int, dict[str, Any]] = {}
        self.discount_codes: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._state_lock = threading.Lock()

    # State -------------------------------------------------------------------------------------

    def _order(self, gid: Any) -> dict[str, Any] | None:
        number = (_gid_number(gid, "Order") or 0) - 5_000_000_000
        if number in self.order_state:
            return self.order_state[number]
        if number <= 0 or demo_data.owner_of_order(number) is None:
            return None
        facts = demo_data.order_facts(number)
        lines = [
            {
                "id": f"gid://shopify/LineItem/{number * 100 + i}",
                "title": item["title"],
                "sku": item["sku"],
                "variantTitle": item["variant_title"],
                "quantity": item["quantity"],
                "refunded": 0,
                "price": item["price"],
            }
            for i, item in enumerate(facts["items"], start=1)
        ]
        items_total = sum((li["price"] * li["quantity"] for li in lines), Decimal("0"))
        n = facts["n"]
        self.order_state[number] = {
            "number": number,
            "customer": f"gid://shopify/Customer/{demo_data.shopify_customer_id(n)}",
            "lines": lines,
            "shipping": SHIPPING,
            "shipping_refunded": Decimal("0"),
            "paid": items_total + SHIPPING if facts["is_paid"] else Decimal("0"),
            "refunded": Decimal("0"),
            "fulfilled": facts["stage"] == "shipped",
            "cancelled_at": None,
            "tags": [],
            "address": {
                "firstName": "Demo",
                "lastName": f"Customer {n}",
                "address1": f"{n} Print Street",
                "address2": "",
                "city": "Leeds",
                "zip": "LS1 4AP",
                "countryCode": "GB",
                "provinceCode": "",
                "phone": f"+4477009{n:05d}",
            },
        }
        return self.order_state[number]

    def _financial_status(self, order: dict[str, Any]) -> str:
        if order["paid"] == 0:
            return "PENDING"
        if order["refunded"] == 0:
            return "PAID"
        return "REFUNDED" if order["refunded"] >= order["paid"] else "PARTIALLY_REFUNDED"

    def _order_node(self, order: dict[str, Any]) -> dict[str, Any]:
        return {
            "__typename": "Order",
            "suggestedRefund": lambda args: self._suggested_refund(order, args),
            "id": order_gid(order["number"]),
            "name": f"#{order['number']}",
            "cancelledAt": order["cancelled_at"],
            "displayFinancialStatus": self._financial_status(order),
            "displayFulfillmentStatus": "FULFILLED" if order["fulfilled"] else "UNFULFILLED",
            "customer": {"id": order["customer"]},
            "tags": order["tags"],
            "totalPriceSet": _money(
                sum((li["price"] * li["quantity"] for li in order["lines"]), order["shipping"])
            ),
            "totalReceivedSet": _money(order["paid"]),
            "totalRefundedSet": _money(order["refunded"]),
            "totalShippingPriceSet": _money(order["shipping"]),
            "shippingAddress": dict(order["address"]),
            "lineItems": {
                "nodes": [
                    {
                        "id": li["id"],
                        "title": li["title"],
                        "sku": li["sku"],
                        "variantTitle": li["variantTitle"],
                        "quantity": li["quantity"],
                        "refundableQuantity": li["quantity"] - li["refunded"],
                        "originalUnitPriceSet": _money(li["price"]),
                    }
                    for li in order["lines"]
                ]
            },
        }

    # Reads -------------------------------------------------------------------------------------

    def resolve_order(self, args):
        order = self._order(args.get("id"))
        return self._order_node(order) if order else None

    def _refund_plan(self, order, args) -> tuple[Decimal, Decimal, list, list[dict]]:
        """What a refund of these lines (and shipping) comes to, capped at what was received."""
        errors, lines, subtotal = [], [], Decimal("0")
        by_id = {li["id"]: li for li in order["lines"]}
        for index, item in enumerate(args.get("refundLineItems") or []):
            line = by_id.get(item.get("lineItemId"))
            quantity = int(item.get("quantity") or 0)
            if line is None:
                errors.append(
                    _error(["refundLineItems", str(index), "lineItemId"], "Line item not found")
                )
                continue
            if quantity < 1 or quantity > line["quantity"] - line["refunded"]:
                errors.append(
                    _error(
                        ["refundLineItems", str(index), "quantity"],
                        "Quantity cannot refund more items than were purchased",
                    )
                )
                continue
            lines.append((line, quantity))
            subtotal += line["price"] * quantity
        shipping = args.get("shipping") or {}
        if args.get("refundShipping") or shipping.get("fullRefund"):
            shipping_amount = order["shipping"] - order["shipping_refunded"]
        else:
            shipping_amount = Decimal(
                str(shipping.get("amount") or args.get("shippingAmount") or 0)
            )
        if shipping_amount > order["shipping"] - order["shipping_refunded"]:
            errors.append(
                _error(["shipping", "amount"], "Shipping refund amount exceeds refundable shipping")
            )
        return subtotal, shipping_amount, lines, errors

    def _parent_transaction(self, order) -> str:
        return f"gid://shopify/OrderTransaction/{order['number'] * 10 + 1}"

    def _suggested_refund(self, order, args):
        subtotal, shipping, lines, _ = self._refund_plan(order, args)
        amount = min(subtotal + shipping, order["paid"] - order["refunded"])
        return {
            "amountSet": _money(amount),
            "subtotalSet": _money(subtotal),
            "maximumRefundableSet": _money(order["paid"] - order["refunded"]),
            "shipping": {
                "amountSet": _money(shipping),
                "maximumRefundableSet": _money(order["shipping"] - order["shipping_refunded"]),
            },
            "refundLineItems": [
                {"lineItem": {"id": line["id"], "title": line["title"]}, "quantity": quantity}
                for line, quantity in lines
            ],
            "suggestedTransactions": [
                {
                    "amountSet": _money(amount),
                    "gateway": "shopify_payments",
                    "kind": "SUGGESTED_REFUND",
                    "parentTransaction": {"id": self._parent_transaction(order)},
                }
            ]
            if amount > 0
            else [],
        }

    # Mutations ---------------------------------------------------------------------------------

    def resolve_refundCreate(self, args):
        data = args.get("input") or {}
        with self._state_lock:
            order = self._order(data.get("orderId"))
            if order is None:
                return self._refund_payload(errors=[_error(["orderId"], "Order does not exist")])
            _subtotal, shipping, lines, errors = self._refund_plan(order, data)
            amount = sum(
                (Decimal(str(t.get("amount") or 0)) for t in data.get("transactions") or []),
                Decimal("0"),
            )
            available = order["paid"] - order["refunded"]
            if amount > available:
                errors.append(
                    _error(
                        ["transactions", "0", "amount"],
                        f"Refund amount ${amount:.2f} is greater than net payment received "
                        f"${available:.2f}",
                    )
                )
            if not lines and shipping == 0 and amount == 0:
                errors.append(_error(None, "Refund must include line items, shipping or amount"))
            if errors:
                return self._refund_payload(errors=errors)
            for line, quantity in lines:
                line["refunded"] += quantity
            order["shipping_refunded"] += shipping
            order["refunded"] += amount
            refund_id = f"gid://shopify/Refund/{next(self._ids)}"
            return self._refund_payload(
                refund={
                    "id": refund_id,
                    "note": data.get("note"),
                    "totalRefundedSet": _money(amount),
                },
                order={
                    "id": order_gid(order["number"]),
                    "displayFinancialStatus": self._financial_status(order),
                },
            )

    @staticmethod
    def _refund_payload(*, errors=None, refund=None, order=None):
        return {"refund": refund, "order": order, "userErrors": errors or []}

    def resolve_orderCancel(self, args):
        with self._state_lock:
            order = self._order(args.get("orderId"))
            errors = []
            if order is None:
                errors.append(_error(["orderId"], "Order does not exist", "NOT_FOUND"))
            elif order["cancelled_at"]:
                errors.append(_error(["orderId"], "Order has already been cancelled", "INVALID"))
            elif order["fulfilled"]:
                errors.append(
                    _error(["orderId"], "Cannot cancel an order that has been fulfilled", "INVALID")
                )
            if args.get("reason") not in CANCEL_REASONS:
                errors.append(_error(["reason"], "Reason is not a valid cancel reason", "INVALID"))
            if errors:
                return {"job": None, "orderCancelUserErrors": errors, "userErrors": errors}
            order["cancelled_at"] = "2026-01-01T00:00:00Z"
            if args.get("refund"):
                order["refunded"] = order["paid"]
            job = {"id": f"gid://shopify/Job/{next(self._ids)}", "done": False}
            return {"job": job, "orderCancelUserErrors": [], "userErrors": []}

    def resolve_orderUpdate(self, args):
        data = args.get("input") or {}
        with self._state_lock:
            order = self._order(data.get("id"))
            if order is None:
                return {"order": None, "userErrors": [_error(["id"], "Order does not exist")]}
            address = data.get("shippingAddress") or {}
            errors = [
                _error(["shippingAddress", key], f"{label} can't be blank")
                for key, label in (("address1", "Address1"), ("city", "City"), ("zip", "Zip"))
                if key in address and not str(address[key] or "").strip()
            ]
            country = address.get("countryCode", order["address"]["countryCode"])
            if not (isinstance(country, str) and len(country) == 2 and country.isalpha()):
                errors.append(_error(["shippingAddress", "countryCode"], "Country is invalid"))
            if errors:
                return {"order": None, "userErrors": errors}
            order["address"].update({k: v for k, v in address.items() if k in order["address"]})
            node = {"id": order_gid(order["number"]), "shippingAddress": dict(order["address"])}
            return {"order": node, "userErrors": []}

    def resolve_draftOrderCreate(self, args):
        data = args.get("input") or {}
        items = data.get("lineItems") or []
        errors = []
        if not items:
            errors.append(_error(["lineItems"], "Add at least 1 product"))
        for index, item in enumerate(items):
            if int(item.get("quantity") or 0) < 1:
                errors.append(
                    _error(["lineItems", str(index), "quantity"], "Quantity must be at least 1")
                )
        discount = data.get("appliedDiscount")
        if discount is not None:
            value = Decimal(str(discount.get("value") or 0))
            if discount.get("valueType") == "PERCENTAGE" and not 0 <= value <= 100:
                errors.append(
                    _error(["appliedDiscount", "value"], "Percentage must be between 0 and 100")
                )
        if errors:
            return {"draftOrder": None, "userErrors": errors}
        subtotal = sum(
            (Decimal(str(i.get("originalUnitPrice") or 0)) * int(i["quantity"]) for i in items),
            Decimal("0"),
        )
        off = Decimal("0")
        if discount is not None:
            value = Decimal(str(discount.get("value") or 0))
            off = subtotal * value / 100 if discount.get("valueType") == "PERCENTAGE" else value
        with self._state_lock:
            number = next(self._ids)
            draft = {
                "id": f"gid://shopify/DraftOrder/{number}",
                "name": f"#D{number}",
                "status": "OPEN",
                "tags": list(data.get("tags") or []),
                "note": data.get("note") or "",
                "lineItems": items,
                "total": max(subtotal - off, Decimal("0")),
                "order": None,
            }
            self.draft_orders[number] = draft
        return {"draftOrder": self._draft_node(draft), "userErrors": []}

    @staticmethod
    def _draft_node(draft):
        return {
            "id": draft["id"],
            "name": draft["name"],
            "status": draft["status"],
            "tags": draft["tags"],
            "totalPriceSet": _money(draft["total"]),
            "order": draft["order"],
        }

    def resolve_draftOrderComplete(self, args):
        number = _gid_number(args.get("id"), "DraftOrder")
        with self._state_lock:
            draft = self.draft_orders.get(number or 0)
            if draft is None:
                error = _error(["id"], "Draft order does not exist")
                return {"draftOrder": None, "userErrors": [error]}
            if draft["status"] == "COMPLETED":
                error = _error(["id"], "This order has already been completed")
                return {"draftOrder": None, "userErrors": [error]}
            order_number = 9000 + number
            draft["status"] = "COMPLETED"
            draft["order"] = {"id": order_gid(order_number), "name": f"#{order_number}"}
        return {"draftOrder": self._draft_node(draft), "userErrors": []}

    def resolve_draftOrderDelete(self, args):
        data = args.get("input") or {}
        number = _gid_number(data.get("id"), "DraftOrder")
        with self._state_lock:
            draft = self.draft_orders.get(number or 0)
            if draft is None or draft["status"] == "COMPLETED":
                error = _error(["id"], "Draft order can't be deleted")
                return {"deletedId": None, "userErrors": [error]}
            del self.draft_orders[number]
        return {"deletedId": draft["id"], "userErrors": []}

    def resolve_discountCodeBasicCreate(self, args):
        data = args.get("basicCodeDiscount") or {}
        code = str(data.get("code") or "").strip()
        value = ((data.get("customerGets") or {}).get("value")) or {}
        errors = []
        if not code:
            errors.append(_error(["basicCodeDiscount", "code"], "Code can't be blank", "BLANK"))
        elif code.upper() in self.discount_codes:
            errors.append(
                _error(
                    ["basicCodeDiscount", "code"],
                    "Code must be unique. Please try a different code.",
                    "TAKEN",
                )
            )
        if "percentage" in value:
            if not 0 < float(value["percentage"]) <= 1:
                errors.append(
                    _error(
                        ["basicCodeDiscount", "customerGets", "value", "percentage"],
                        "Value must be between 0.0 and 1.0",
                        "VALUE_OUTSIDE_RANGE",
                    )
                )
        elif "discountAmount" not in value:
            errors.append(
                _error(["basicCodeDiscount", "customerGets", "value"], "Value is missing", "BLANK")
            )
        if errors:
            return {"codeDiscountNode": None, "userErrors": errors}
        with self._state_lock:
            node_id = f"gid://shopify/DiscountCodeNode/{next(self._ids)}"
            self.discount_codes[code.upper()] = {"id": node_id, **data}
        node = {
            "id": node_id,
            "codeDiscount": {
                "__typename": "DiscountCodeBasic",
                "title": data.get("title") or code,
                "codes": {"nodes": [{"code": code}]},
            },
        }
        return {"codeDiscountNode": node, "userErrors": []}
