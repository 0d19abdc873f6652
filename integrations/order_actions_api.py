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


def _answer(outcome) -> Response:
    if isinstance(outcome, OrderAction):
        return Response(
            {"confirmed": True, "action": OrderActionSerializer(outcome).data}, status=201
        )
    return Response({**PreviewSerializer({**outcome.__dict__, "confirmed": False}).data})


class _OrderActionApi(APIView):
    permission_classes = [ActionPermission]
    input_serializer: type[serializers.Serializer]

    def _run(self, request: Request, reference: str, preview, perform, **extra) -> Response:
        ticket = get_ticket_for_user(user=request.user, reference=reference)
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {**data.validated_data, **extra}
        confirm = values.pop("confirm")
        confirmation = {k: values.pop(k) for k in ("amount", "code") if k in values}
        if confirm:
            return _answer(perform(ticket=ticket, actor=request.user, **values, **confirmation))
        return _answer(preview(ticket=ticket, actor=request.user, **values))


REASONS = OrderActionReason.values


class TicketOrderReprintApi(_OrderActionApi):
    required_action = Action.EDIT_ORDERS

    class InputSerializer(serializers.Serializer):
        confirm = serializers.BooleanField(default=False)
        reason = serializers.ChoiceField(choices=REASONS)
        line_id = serializers.CharField(required=False, default="", allow_blank=True)
        quantity = serializers.IntegerField(required=False, min_value=1, allow_null=True)
        perp_reference = serializers.CharField(required=False, default="", allow_blank=True)

    input_serializer = InputSerializer

    @extend_schema(request=InputSerializer, responses={200: PreviewSerializer, 201: None})
    def post(self, request: Request, reference: str, number: str) -> Response:
        return self._run(
            request,
            reference,
            order_actions.preview_reprint,
            order_actions.perform_reprint,
            order_name=number,
        )


class TicketOrderRefundApi(_OrderActionApi):
    required_action = Action.REFUND_ORDERS

    class InputSerializer(serializers.Serializer):
        confirm = serializers.BooleanField(default=False)
        reason = serializers.ChoiceField(choices=REASONS, required=False, default="other")
        line_id = serializers.CharField(required=False, default="", allow_blank=True)
        quantity = serializers.IntegerField(required=False, min_value=1, allow_null=True)
        include_shipping = serializers.BooleanField(default=False)
        amount = serializers.CharField(required=False, help_text="The previewed amount.")

    input_serializer = InputSerializer

    @extend_schema(request=InputSerializer, responses={200: PreviewSerializer, 201: None})
    def post(self, request: Request, reference: str, number: str) -> Response:
        def preview(**kwargs):
            kwargs.pop("reason", None)
            return order_actions.preview_refund(**kwargs)

        def perform(**kwargs):
            kwargs.setdefault("amount", "")
            return order_actions.perform_refund(**kwargs)

        return self._run(request, reference, preview, perform, order_name=number)


class TicketOrderCancelApi(_OrderActionApi):
    required_action = Action.EDIT_ORDERS

    class InputSerializer(serializers.Serializer):
        confirm = serializers.BooleanField(default=False)
        reason = serializers.ChoiceField(choices=list(order_actions.CANCEL_REASONS))
        refund = serializers.BooleanField(default=False)
        restock = serializers.BooleanField(default=True)

    input_serializer = InputSerializer

    @extend_schema(request=InputSerializer, responses={200: PreviewSerializer, 201: None})
    def post(self, request: Request, reference: str, number: str) -> Response:
        return self._run(
            request,
            reference,
            order_actions.preview_cancel,
            order_actions.perform_cancel,
            order_name=number,
        )


class TicketOrderAddressApi(_OrderActionApi):
    required_action = Action.EDIT_ORDERS

    class InputSerializer(serializers.Serializer):
        confirm = serializers.BooleanField(default=False)
        address = serializers.DictField(
            child=serializers.CharField(allow_blank=True, max_length=255),
            help_text="Shopify MailingAddressInput fields: address1, city, zip, countryCode, ...",
        )

    input_serializer = InputSerializer

    @extend_schema(request=InputSerializer, responses={200: PreviewSerializer, 201: None})
    def post(self, request: Request, reference: str, number: str) -> Response:
        return self._run(
            request,
            reference,
            order_actions.preview_address,
            order_actions.perform_address,
            order_name=number,
        )


class TicketDiscountCodeApi(_OrderActionApi):
    required_action = Action.EDIT_ORDERS

    class InputSerializer(serializers.Serializer):
        confirm = serializers.BooleanField(default=False)
        reason = serializers.ChoiceField(choices=REASONS)
        percentage = serializers.CharField(required=False, default="", allow_blank=True)
        amount = serializers.CharField(required=False, default="", allow_blank=True)
        code = serializers.CharField(required=False, max_length=40, help_text="From the preview.")

    input_serializer = InputSerializer

    @extend_schema(request=InputSerializer, responses={200: PreviewSerializer, 201: None})
    def post(self, request: Request, reference: str) -> Response:
        ticket = get_ticket_for_user(user=request.user, reference=reference)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        confirm, code = values.pop("confirm"), values.pop("code", "")
        if confirm:
            action = order_actions.perform_discount(
                ticket=ticket, actor=request.user, code=code, **values
            )
            return _answer(action)
        return _answer(order_actions.preview_discount(ticket=ticket, actor=request.user, **values))
