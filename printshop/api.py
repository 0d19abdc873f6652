"""REST API of print-shop workflows: tickets by order number, and a ticket's proofs and orders.

Permissions are checked by the selectors (403); unknown tickets are 404.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_schema import ERROR
from printshop import selectors
from printshop.models import OrderSource, PerpWriteBack, ProofDecision, ProofSource
from tickets.models import ChannelKind, TicketPriority, TicketStatus
from tickets.selectors import get_ticket_for_user

ERRORS = {401: ERROR, 403: ERROR, 404: ERROR}
MAX_TICKETS = 100


class OrderTicketsApi(APIView):
    class OrderTicketOutputSerializer(serializers.Serializer):
        reference = serializers.CharField()
        subject = serializers.CharField()
        status = serializers.ChoiceField(choices=TicketStatus.choices)
        priority = serializers.ChoiceField(choices=TicketPriority.choices)
        channel = serializers.ChoiceField(choices=ChannelKind.choices)
        customer_id = serializers.IntegerField()
        customer_name = serializers.CharField(source="customer.__str__")
        assignee_id = serializers.IntegerField(allow_null=True)
        updated_at = serializers.DateTimeField()
        url = serializers.SerializerMethodField()

        def get_url(self, ticket) -> str:
            return f"/tickets/{ticket.reference}/"

    @extend_schema(
        operation_id="orders_tickets",
        tags=["orders"],
        summary="Tickets linked to an order (#1001 as %231001 or 1001, PD-ORD-10042, job 4411)",
        responses={200: OrderTicketOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, number: str) -> Response:
        tickets = selectors.list_tickets_for_order(user=request.user, number=number)
        return Response(self.OrderTicketOutputSerializer(tickets[:MAX_TICKETS], many=True).data)


class TicketProofsApi(APIView):
    class TicketProofsOutputSerializer(serializers.Serializer):
        class LinkedOrderOutputSerializer(serializers.Serializer):
            number = serializers.CharField()
            source = serializers.ChoiceField(choices=OrderSource.choices)
            created_at = serializers.DateTimeField()

        class ProofOutputSerializer(serializers.Serializer):
            id = serializers.IntegerField()
            order_number = serializers.CharField()
            order_line = serializers.CharField()
            version = serializers.IntegerField(allow_null=True)
            source = serializers.ChoiceField(choices=ProofSource.choices)
            file_name = serializers.CharField()
            content_type = serializers.CharField()
            preflight = serializers.JSONField()
            sent_at = serializers.DateTimeField(allow_null=True)
            expires_at = serializers.DateTimeField(allow_null=True)
            is_superseded = serializers.BooleanField()
            decision = serializers.ChoiceField(choices=ProofDecision.choices)
            decided_at = serializers.DateTimeField(allow_null=True)
            decided_ip = serializers.CharField(allow_null=True)
            decision_comment = serializers.CharField()
            perp_artwork_id = serializers.CharField()
            perp_status = serializers.ChoiceField(choices=PerpWriteBack.choices)

        orders = LinkedOrderOutputSerializer(many=True)
        proofs = ProofOutputSerializer(many=True)

    @extend_schema(
        operation_id="tickets_proofs",
        tags=["orders"],
        summary="A ticket's linked orders and its proofs (drafts and every sent version)",
        responses={200: TicketProofsOutputSerializer, **ERRORS},
    )
    def get(self, request: Request, reference: str) -> Response:
        ticket = get_ticket_for_user(user=request.user, reference=reference)
        drafts, lines = selectors.list_ticket_proofs(ticket=ticket)
        data = {
            "orders": selectors.list_ticket_orders(ticket=ticket),
            "proofs": [*drafts, *(p for line in lines for p in line.versions)],
        }
        return Response(self.TicketProofsOutputSerializer(data).data)
