"""REST API of the Shopify order actions from a ticket (docs/orders.md).

Each action is one endpoint. Without `"confirm": true` it answers 200 with exactly what would
change (and any values the confirming call must send back); with it, it acts and answers 201.
A Shopify refusal is 422 `shopify_refused` with Shopify's message; nothing was changed.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action, ActionPermission
from core.api_schema import ERROR
from integrations import order_actions
from integrations.models import OrderAction, OrderActionReason
from tickets.selectors import get_ticket_for_user


class PreviewSerializer(serializers.Serializer):
    confirmed = serializers.BooleanField()
    kind = serializers.CharField()
    order = serializers.CharField(source="order_name")
    changes = serializers.ListField(child=serializers.CharField())
    confirm = serializers.DictField(help_text="Send these back with confirm=true.")


class OrderActionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    reason = serializers.CharField()
    order = serializers.CharField(source="order_name")
    product = serializers.CharField()
    quantity = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    currency = serializers.CharField()
    result = serializers.DictField()
    created_at = serializers.DateTimeField()


class ActionResultSerializer(serializers.Serializer):
    confirmed = serializers.BooleanField()
    action = OrderActionSerializer()


def _answer(outcome) -> Response:
    if isinstance(outcome, OrderAction):
        return Response(
            {"confirmed": True, "action": OrderActionSerializer(outcome).data}, status=201
        )
    return Response({**PreviewSerializer({**outcome.__dict__, "confirmed": False}).data})


class _OrderActionApi(APIView):
    """POST previews (or with `confirm`, performs) `preview`/`perform` with the validated input;
    `confirm_fields` go only to the confirmed step (what the preview handed out)."""

    permission_classes = [ActionPermission]
    InputSerializer: type[serializers.Serializer]
    preview = perform = None
    confirm_fields: tuple[str, ...] = ()

    def _run(self, request: Request, reference: str, **extra) -> Response:
        ticket = get_ticket_for_user(user=request.user, reference=reference)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {**data.validated_data, **extra}
        if values.pop("confirm"):
            outcome = self.perform(ticket=ticket, actor=request.user, **values)
        else:
            shown = {k: v for k, v in values.items() if k not in self.confirm_fields}
            outcome = self.preview(ticket=ticket, actor=request.user, **shown)
        return _answer(outcome)


REASONS = OrderActionReason.values
# 404: unknown ticket or order; 409: the order changed since the preview; 422: Shopify refused.
RESPONSES = {
    200: PreviewSerializer,
    201: ActionResultSerializer,
    **dict.fromkeys((400, 403, 404, 409, 422), ERROR),
}


class TicketOrderReprintApi(_OrderActionApi):
    required_action = Action.EDIT_ORDERS
    preview = staticmethod(order_actions.preview_reprint)
    perform = staticmethod(order_actions.perform_reprint)

    class OrderReprintInputSerializer(serializers.Serializer):
        confirm = serializers.BooleanField(default=False)
        reason = serializers.ChoiceField(choices=REASONS)
        line_id = serializers.CharField(required=False, default="", allow_blank=True)
        quantity = serializers.IntegerField(required=False, min_value=1, allow_null=True)
        perp_reference = serializers.CharField(required=False, default="", allow_blank=True)

    InputSerializer = OrderReprintInputSerializer

    @extend_schema(
        request=OrderReprintInputSerializer,
        responses=RESPONSES,
    )
    def post(self, request: Request, reference: str, number: str) -> Response:
        return self._run(request, reference, order_name=number)


class TicketOrderRefundApi(_OrderActionApi):
    required_action = Action.REFUND_ORDERS
    preview = staticmethod(order_actions.preview_refund)
    perform = staticmethod(order_actions.perform_refund)
    confirm_fields = ("reason", "amount")

    class OrderRefundInputSerializer(serializers.Serializer):
        confirm = serializers.BooleanField(default=False)
        reason = serializers.ChoiceField(choices=REASONS, required=False, default="other")
        line_id = serializers.CharField(required=False, default="", allow_blank=True)
        quantity = serializers.IntegerField(required=False, min_value=1, allow_null=True)
        include_shipping = serializers.BooleanField(default=False)
        amount = serializers.CharField(
            required=False, default="", help_text="The previewed amount."
        )

    InputSerializer = OrderRefundInputSerializer

    @extend_schema(
        request=OrderRefundInputSerializer,
        responses=RESPONSES,
    )
    def post(self, request: Request, reference: str, number: str) -> Response:
        return self._run(request, reference, order_name=number)


class TicketOrderCancelApi(_OrderActionApi):
    required_action = Action.EDIT_ORDERS
    preview = staticmethod(order_actions.preview_cancel)
    perform = staticmethod(order_actions.perform_cancel)

    class OrderCancelInputSerializer(serializers.Serializer):
        confirm = serializers.BooleanField(default=False)
        reason = serializers.ChoiceField(choices=list(order_actions.CANCEL_REASONS))
        refund = serializers.BooleanField(default=False)
        restock = serializers.BooleanField(default=True)

    InputSerializer = OrderCancelInputSerializer

    @extend_schema(
        request=OrderCancelInputSerializer,
        responses=RESPONSES,
    )
    def post(self, request: Request, reference: str, number: str) -> Response:
        return self._run(request, reference, order_name=number)


class TicketOrderAddressApi(_OrderActionApi):
    required_action = Action.EDIT_ORDERS
    preview = staticmethod(order_actions.preview_address)
    perform = staticmethod(order_actions.perform_address)

    class OrderAddressInputSerializer(serializers.Serializer):
        confirm = serializers.BooleanField(default=False)
        address = serializers.DictField(
            child=serializers.CharField(allow_blank=True, max_length=255),
            help_text="Shopify MailingAddressInput fields: address1, city, zip, countryCode, ...",
        )

    InputSerializer = OrderAddressInputSerializer

    @extend_schema(
        request=OrderAddressInputSerializer,
        responses=RESPONSES,
    )
    def post(self, request: Request, reference: str, number: str) -> Response:
        return self._run(request, reference, order_name=number)


class TicketDiscountCodeApi(_OrderActionApi):
    required_action = Action.EDIT_ORDERS
    preview = staticmethod(order_actions.preview_discount)
    perform = staticmethod(order_actions.perform_discount)
    confirm_fields = ("code",)

    class DiscountCodeInputSerializer(serializers.Serializer):
        confirm = serializers.BooleanField(default=False)
        reason = serializers.ChoiceField(choices=REASONS)
        percentage = serializers.CharField(required=False, default="", allow_blank=True)
        amount = serializers.CharField(required=False, default="", allow_blank=True)
        code = serializers.CharField(
            required=False, default="", max_length=40, help_text="From the preview."
        )

    InputSerializer = DiscountCodeInputSerializer

    @extend_schema(
        request=DiscountCodeInputSerializer,
        responses=RESPONSES,
    )
    def post(self, request: Request, reference: str) -> Response:
        return self._run(request, reference)
