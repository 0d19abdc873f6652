"""REST API for the customer 360 context (the same data the sidebar shows)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action, require
from core.api_schema import ERROR
from integrations.customer_context import read_customer_context
from integrations.records import to_jsonable
from integrations.selectors import get_customer_for_context


class _Money(serializers.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(max_digits=14, decimal_places=2, coerce_to_string=True, **kwargs)


class ContextSectionStateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["ok", "not_configured", "not_linked", "not_fetched", "error"]
    )
    error = serializers.CharField()
    error_code = serializers.CharField()
    fetched_at = serializers.DateTimeField(allow_null=True, help_text="When the data was fetched.")
    checked_at = serializers.DateTimeField(
        allow_null=True, help_text="When the provider was last asked."
    )
    is_fallback = serializers.BooleanField(
        help_text="The last check failed; the data is from an earlier one."
    )
    is_stale = serializers.BooleanField(help_text="Due for a refresh.")


class ShopifyLineItemSerializer(serializers.Serializer):
    title = serializers.CharField()
    quantity = serializers.IntegerField()
    sku = serializers.CharField()
    variant_title = serializers.CharField()


class ShopifyTrackingSerializer(serializers.Serializer):
    company = serializers.CharField()
    number = serializers.CharField()
    url = serializers.CharField()


class ShopifyOrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="e.g. #1001")
    created_at = serializers.DateTimeField(allow_null=True)
    financial_status = serializers.CharField(help_text="PAID, PENDING, REFUNDED, ...")
    fulfillment_status = serializers.CharField(help_text="FULFILLED, UNFULFILLED, ...")
    total = _Money()
    currency = serializers.CharField()
    customer_id = serializers.IntegerField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    status_url = serializers.CharField()
    line_items = ShopifyLineItemSerializer(many=True)
    tracking = ShopifyTrackingSerializer(many=True)


class ShopifyCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    orders_count = serializers.IntegerField()
    amount_spent = _Money()
    currency = serializers.CharField()
    created_at = serializers.DateTimeField(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    state = serializers.CharField()


class ShopifySectionSerializer(serializers.Serializer):
    customer = ShopifyCustomerSerializer()
    orders = ShopifyOrderSerializer(many=True)


class PerpCustomerSerializer(serializers.Serializer):
    id = serializers.CharField()
    email = serializers.CharField()
    name = serializers.CharField()
    phone = serializers.CharField()
    company = serializers.CharField()
    created_at = serializers.DateTimeField(allow_null=True)


class PerpWalletSerializer(serializers.Serializer):
    customer_id = serializers.CharField()
    tier = serializers.CharField()
    balance = _Money()
    currency = serializers.CharField()
    points = serializers.IntegerField()
    updated_at = serializers.DateTimeField(allow_null=True)
    recent_transactions = serializers.ListField(child=serializers.DictField())


class PerpOrderSerializer(serializers.Serializer):
    id = serializers.CharField()
    number = serializers.CharField(help_text="PD-ORD-<5+ digits>, e.g. PD-ORD-10042")
    customer_id = serializers.CharField()
    status = serializers.CharField()
    total = _Money()
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()
    shopify_order_name = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)


class PerpProductionJobSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    stage = serializers.CharField(help_text="prepress, printing, finishing, packing, shipped")
    status = serializers.CharField()
    quantity = serializers.IntegerField()
    updated_at = serializers.DateTimeField(allow_null=True)
    estimated_ready_at = serializers.DateTimeField(allow_null=True)


class PerpProductionSerializer(serializers.Serializer):
    order_id = serializers.CharField()
    status = serializers.CharField()
    jobs = PerpProductionJobSerializer(many=True)
    updated_at = serializers.DateTimeField(allow_null=True)


class PerpArtworkSerializer(serializers.Serializer):
    id = serializers.CharField()
    order_id = serializers.CharField()
    file_name = serializers.CharField()
    proof_status = serializers.CharField(help_text="pending, approved, changes_requested")
    version = serializers.IntegerField()
    thumbnail_url = serializers.CharField()
    file_url = serializers.CharField()
    proof_url = serializers.CharField()
    note = serializers.CharField()
    updated_at = serializers.DateTimeField(allow_null=True)


class PerpOrderDetailSerializer(serializers.Serializer):
    order = PerpOrderSerializer()
    production = PerpProductionSerializer(allow_null=True)
    artwork = PerpArtworkSerializer(many=True)


class PerpInvoiceSerializer(serializers.Serializer):
    id = serializers.CharField()
    number = serializers.CharField()
    customer_id = serializers.CharField()
    status = serializers.CharField(help_text="open, paid, overdue, void")
    total = _Money()
    amount_due = _Money()
    currency = serializers.CharField()
    issued_at = serializers.DateTimeField()
    order_id = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)


class PerpSectionSerializer(serializers.Serializer):
    customer = PerpCustomerSerializer()
    wallet = PerpWalletSerializer(allow_null=True)
    orders = PerpOrderDetailSerializer(many=True)
    order_count = serializers.IntegerField()
    invoices = PerpInvoiceSerializer(many=True)


class CustomerContextSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField()
    checked_at = serializers.DateTimeField(
        allow_null=True, help_text="The oldest check of a configured provider; null: never."
    )
    is_stale = serializers.BooleanField()
    is_refreshing = serializers.BooleanField(help_text="A background refresh is pending.")
    shopify_state = ContextSectionStateSerializer()
    perp_state = ContextSectionStateSerializer()
    shopify = ShopifySectionSerializer(allow_null=True)
    perp = PerpSectionSerializer(allow_null=True)
    errors = serializers.DictField(
        child=serializers.CharField(), help_text="provider -> error message, when one failed"
    )


class CustomerContextApi(APIView):
    OutputSerializer = CustomerContextSerializer

    @extend_schema(
        operation_id="customer_context",
        parameters=[
            OpenApiParameter(
                "refresh",
                bool,
                description="Refresh in the background even if the stored context is fresh "
                "(a stale one is refreshed anyway); poll until `is_refreshing` is false.",
            ),
        ],
        responses={200: OutputSerializer, 403: ERROR, 404: ERROR},
    )
    def get(self, request: Request, customer_id: int) -> Response:
        require(request.user, Action.VIEW_CUSTOMERS)
        customer = get_customer_for_context(customer_id=customer_id)
        refresh = request.query_params.get("refresh") in ("1", "true")
        context = read_customer_context(customer=customer, force_refresh=refresh)
        return Response({**to_jsonable(context), "errors": context.errors})
