"""Shopify order actions over the Admin GraphQL API: the order read they start from,
`suggestedRefund`, `refundCreate`, `orderCancel`, `orderUpdate` (shipping address),
`draftOrderCreate`/`draftOrderComplete`/`draftOrderDelete` (reprints) and
`discountCodeBasicCreate`. Mutations are sent once (never retried); a refusal raises
`ShopifyUserError` with Shopify's `userErrors`. No database access here.

Scopes: read_orders, write_orders, write_draft_orders, write_discounts (docs/privacy.md).
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from integrations.shopify.client import ShopifyClient, ShopifyGraphQLError, ShopifyUserError

MONEY = "shopMoney { amount currencyCode }"

ORDER_FOR_ACTIONS_QUERY = f"""
query OrderForActions($id: ID!) {{
  order(id: $id) {{
    id name cancelledAt displayFinancialStatus displayFulfillmentStatus tags
    customer {{ id }}
    totalPriceSet {{ {MONEY} }}
    totalReceivedSet {{ {MONEY} }}
    totalRefundedSet {{ {MONEY} }}
    totalShippingPriceSet {{ {MONEY} }}
    shippingAddress {{
      firstName lastName address1 address2 city zip provinceCode countryCode phone
    }}
    lineItems(first: 50) {{
      nodes {{
        id title sku variantTitle quantity refundableQuantity
        originalUnitPriceSet {{ {MONEY} }}
      }}
    }}
  }}
}}"""

SUGGESTED_REFUND_QUERY = f"""
query SuggestedRefund(
  $id: ID!, $refundLineItems: [RefundLineItemInput!], $refundShipping: Boolean
) {{
  order(id: $id) {{
    id
    suggestedRefund(refundLineItems: $refundLineItems, refundShipping: $refundShipping) {{
      amountSet {{ {MONEY} }}
      subtotalSet {{ {MONEY} }}
      maximumRefundableSet {{ {MONEY} }}
      shipping {{ amountSet {{ {MONEY} }} maximumRefundableSet {{ {MONEY} }} }}
      refundLineItems {{ lineItem {{ id title }} quantity }}
      suggestedTransactions {{
        amountSet {{ {MONEY} }} gateway kind parentTransaction {{ id }}
      }}
    }}
  }}
}}"""

REFUND_CREATE = f"""
mutation RefundCreate($input: RefundInput!) {{
  refundCreate(input: $input) {{
    refund {{ id totalRefundedSet {{ {MONEY} }} }}
    order {{ id displayFinancialStatus }}
    userErrors {{ field message }}
  }}
}}"""

ORDER_CANCEL = """
mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $refund: Boolean!,
                     $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refund: $refund, restock: $restock,
              notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"""

ORDER_UPDATE = """
mutation OrderUpdate($input: OrderInput!) {
  orderUpdate(input: $input) {
    order { id shippingAddress { address1 address2 city zip provinceCode countryCode } }
    userErrors { field message }
  }
}"""

DRAFT_ORDER_CREATE = f"""
mutation DraftOrderCreate($input: DraftOrderInput!) {{
  draftOrderCreate(input: $input) {{
    draftOrder {{ id name status tags totalPriceSet {{ {MONEY} }} }}
    userErrors {{ field message }}
  }}
}}"""

DRAFT_ORDER_COMPLETE = """
mutation DraftOrderComplete($id: ID!) {
  draftOrderComplete(id: $id) {
    draftOrder { id status order { id name } }
    userErrors { field message }
  }
}"""

DRAFT_ORDER_DELETE = """
mutation DraftOrderDelete($input: DraftOrderDeleteInput!) {
  draftOrderDelete(input: $input) { deletedId userErrors { field message } }
}"""

DISCOUNT_CODE_BASIC_CREATE = """
mutation DiscountCodeBasicCreate($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode {
      id
      codeDiscount { ... on DiscountCodeBasic { title codes(first: 1) { nodes { code } } } }
    }
    userErrors { field code message }
  }
}"""


def _money(node: dict[str, Any] | None) -> tuple[Decimal, str]:
    shop = (node or {}).get("shopMoney") or {}
    return Decimal(str(shop.get("amount") or "0")), shop.get("currencyCode") or ""


def order_gid(order_id: int) -> str:
    return f"gid://shopify/Order/{int(order_id)}"


@dataclass(frozen=True)
class ActionLine:
    id: str
    title: str
    sku: str
    variant_title: str
    quantity: int
    refundable_quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class ActionOrder:
    """An order as the action forms need it: what can still be refunded, cancelled, edited."""

    id: str
    name: str
    customer_id: str
    currency: str
    total: Decimal
    received: Decimal
    refunded: Decimal
    shipping: Decimal
    financial_status: str
    fulfillment_status: str
    is_cancelled: bool
    shipping_address: dict[str, str]
    lines: list[ActionLine] = field(default_factory=list)

    @property
    def is_fulfilled(self) -> bool:
        return self.fulfillment_status in ("FULFILLED", "PARTIALLY_FULFILLED")

    def line(self, line_id: str) -> ActionLine | None:
        return next((li for li in self.lines if li.id == line_id), None)

    @classmethod
    def from_graphql(cls, node: dict[str, Any]) -> "ActionOrder":
        total, currency = _money(node.get("totalPriceSet"))
        return cls(
            id=node["id"],
            name=node.get("name") or "",
            customer_id=((node.get("customer") or {}).get("id")) or "",
            currency=currency,
            total=total,
            received=_money(node.get("totalReceivedSet"))[0],
            refunded=_money(node.get("totalRefundedSet"))[0],
            shipping=_money(node.get("totalShippingPriceSet"))[0],
            financial_status=node.get("displayFinancialStatus") or "",
            fulfillment_status=node.get("displayFulfillmentStatus") or "",
            is_cancelled=bool(node.get("cancelledAt")),
            shipping_address={
                k: str(v or "") for k, v in (node.get("shippingAddress") or {}).items()
            },
            lines=[
                ActionLine(
                    id=li["id"],
                    title=li.get("title") or "",
                    sku=li.get("sku") or "",
                    variant_title=li.get("variantTitle") or "",
                    quantity=int(li.get("quantity") or 0),
                    refundable_quantity=int(li.get("refundableQuantity") or 0),
                    unit_price=_money(li.get("originalUnitPriceSet"))[0],
                )
                for li in (node.get("lineItems") or {}).get("nodes") or []
            ],
        )


@dataclass(frozen=True)
class SuggestedRefund:
    amount: Decimal
    currency: str
    subtotal: Decimal
    shipping: Decimal
    maximum_refundable: Decimal
    gateway: str
    parent_transaction_id: str


@dataclass(frozen=True)
class RefundResult:
    id: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Reprint:
    draft_order_id: str
    order_id: str
    order_name: str


@dataclass(frozen=True)
class DiscountCode:
    id: str
    code: str


class ShopifyOrderActions:
    """The order-action calls, on top of a `ShopifyClient` (transport, throttling, errors)."""

    def __init__(self, client: ShopifyClient) -> None:
        self.client = client

    @classmethod
    def from_settings(cls) -> "ShopifyOrderActions":
        return cls(ShopifyClient.from_settings())

    def get_order(self, order_id: int) -> ActionOrder | None:
        data = self.client.execute(
            ORDER_FOR_ACTIONS_QUERY, {"id": order_gid(order_id)}, operation="OrderForActions"
        )
        node = data.get("order")
        return ActionOrder.from_graphql(node) if node else None

    def suggest_refund(
        self, *, order_id: str, lines: list[tuple[str, int]], refund_shipping: bool
    ) -> SuggestedRefund:
        variables = {
            "id": order_id,
            "refundLineItems": [{"lineItemId": lid, "quantity": qty} for lid, qty in lines],
            "refundShipping": refund_shipping,
        }
        data = self.client.execute(SUGGESTED_REFUND_QUERY, variables, operation="SuggestedRefund")
        suggestion = (data.get("order") or {}).get("suggestedRefund")
        if not suggestion:
            raise ShopifyGraphQLError("Shopify suggested no refund for that order.")
        amount, currency = _money(suggestion.get("amountSet"))
        transaction = (suggestion.get("suggestedTransactions") or [{}])[0]
        return SuggestedRefund(
            amount=amount,
            currency=currency,
            subtotal=_money(suggestion.get("subtotalSet"))[0],
            shipping=_money((suggestion.get("shipping") or {}).get("amountSet"))[0],
            maximum_refundable=_money(suggestion.get("maximumRefundableSet"))[0],
            gateway=transaction.get("gateway") or "",
            parent_transaction_id=(transaction.get("parentTransaction") or {}).get("id") or "",
        )

    def create_refund(
        self,
        *,
        order_id: str,
        lines: list[tuple[str, int]],
        refund_shipping: bool,
        suggestion: SuggestedRefund,
        note: str,
    ) -> RefundResult:
        refund: dict[str, Any] = {
            "orderId": order_id,
            "note": note,
            "notify": True,
            "refundLineItems": [
                {"lineItemId": lid, "quantity": qty, "restockType": "NO_RESTOCK"}
                for lid, qty in lines
            ],
            "transactions": [
                {
                    "orderId": order_id,
                    "gateway": suggestion.gateway,
                    "kind": "REFUND",
                    "amount": f"{suggestion.amount:.2f}",
                    "parentId": suggestion.parent_transaction_id,
                }
            ],
        }
        if refund_shipping:
            refund["shipping"] = {"fullRefund": True}
        data = self.client.execute(
            REFUND_CREATE,
            {"input": refund},
            operation="RefundCreate",
            mutation_field="refundCreate",
        )
        node = (data.get("refundCreate") or {}).get("refund") or {}
        amount, currency = _money(node.get("totalRefundedSet"))
        return RefundResult(id=node.get("id") or "", amount=amount, currency=currency)

    def cancel_order(
        self, *, order_id: str, reason: str, refund: bool, restock: bool, note: str
    ) -> str:
        variables = {
            "orderId": order_id,
            "reason": reason,
            "refund": refund,
            "restock": restock,
            "notifyCustomer": True,
            "staffNote": note[:255],
        }
        data = self.client.execute(
            ORDER_CANCEL, variables, operation="OrderCancel", mutation_field="orderCancel"
        )
        return ((data.get("orderCancel") or {}).get("job") or {}).get("id") or ""

    def update_shipping_address(self, *, order_id: str, address: dict[str, str]) -> dict:
        data = self.client.execute(
            ORDER_UPDATE,
            {"input": {"id": order_id, "shippingAddress": address}},
            operation="OrderUpdate",
            mutation_field="orderUpdate",
        )
        return ((data.get("orderUpdate") or {}).get("order") or {}).get("shippingAddress") or {}

    def create_reprint(
        self,
        *,
        customer_id: str,
        lines: list[tuple[ActionLine, int]],
        tags: list[str],
        note: str,
    ) -> Reprint:
        """A draft order at no charge (100 % discount), completed; deleted again when
        completing fails, so a refused reprint leaves nothing behind in the shop."""
        draft_input = {
            "purchasingEntity": {"customerId": customer_id} if customer_id else None,
            "lineItems": [
                {
                    "title": line.title,
                    "sku": line.sku,
                    "originalUnitPrice": f"{line.unit_price:.2f}",
                    "quantity": quantity,
                }
                for line, quantity in lines
            ],
            "appliedDiscount": {
                "valueType": "PERCENTAGE",
                "value": 100.0,
                "title": "Reprint",
                "description": "Reprint at no charge",
            },
            "tags": tags,
            "note": note,
        }
        created = self.client.execute(
            DRAFT_ORDER_CREATE,
            {"input": {k: v for k, v in draft_input.items() if v is not None}},
            operation="DraftOrderCreate",
            mutation_field="draftOrderCreate",
        )
        draft_id = ((created.get("draftOrderCreate") or {}).get("draftOrder") or {}).get("id")
        if not draft_id:
            raise ShopifyGraphQLError("Shopify created no draft order.")
        try:
            completed = self.client.execute(
                DRAFT_ORDER_COMPLETE,
                {"id": draft_id},
                operation="DraftOrderComplete",
                mutation_field="draftOrderComplete",
            )
        except ShopifyUserError:
            # Refused: remove the open draft. (A timeout leaves it open: it may have completed.)
            self.client.execute(
                DRAFT_ORDER_DELETE,
                {"input": {"id": draft_id}},
                operation="DraftOrderDelete",
                mutation_field="draftOrderDelete",
            )
            raise
        order = ((completed.get("draftOrderComplete") or {}).get("draftOrder") or {}).get(
            "order"
        ) or {}
        return Reprint(
            draft_order_id=draft_id, order_id=order.get("id") or "", order_name=order.get("name")
        )

    def create_discount_code(
        self,
        *,
        code: str,
        title: str,
        customer_id: str,
        percentage: Decimal | None,
        amount: Decimal | None,
        starts_at: datetime,
        ends_at: datetime,
    ) -> DiscountCode:
        value = (
            {"percentage": float(percentage) / 100}
            if percentage is not None
            else {"discountAmount": {"amount": f"{amount:.2f}", "appliesOnEachItem": False}}
        )
        discount = {
            "title": title,
            "code": code,
            "startsAt": starts_at.isoformat(),
            "endsAt": ends_at.isoformat(),
            "customerGets": {"value": value, "items": {"all": True}},
            "appliesOncePerCustomer": True,
            "usageLimit": 1,
        }
        if customer_id:
            discount["context"] = {"customers": {"add": [customer_id]}}
        data = self.client.execute(
            DISCOUNT_CODE_BASIC_CREATE,
            {"basicCodeDiscount": discount},
            operation="DiscountCodeBasicCreate",
            mutation_field="discountCodeBasicCreate",
        )
        node = (data.get("discountCodeBasicCreate") or {}).get("codeDiscountNode") or {}
        codes = ((node.get("codeDiscount") or {}).get("codes") or {}).get("nodes") or []
        return DiscountCode(id=node.get("id") or "", code=codes[0]["code"] if codes else code)
