"""Automation API: a ticket's SLA deadlines and the rules that fired on it."""

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from automation.selectors import get_sla_panel
from core.api_schema import ERROR
from tickets.selectors import get_ticket_for_user


class TicketSlaApi(APIView):
    class DeadlineSerializer(serializers.Serializer):
        metric = serializers.CharField()
        label = serializers.CharField()
        due_at = serializers.DateTimeField()
        is_breached = serializers.BooleanField()
        is_warned = serializers.BooleanField()

    class RuleRunSerializer(serializers.Serializer):
        rule = serializers.CharField(source="rule_name")
        event = serializers.CharField()
        performed = serializers.ListField(child=serializers.CharField())
        error = serializers.CharField()
        created_at = serializers.DateTimeField()

    # Named: a bare "Output" collides with other APIs' OutputSerializer in the OpenAPI components
    # (the schema described this response with knowledge search's fields; found by fuzzing).
    @extend_schema_serializer(component_name="TicketSla")
    class OutputSerializer(serializers.Serializer):
        policy = serializers.CharField(allow_null=True)
        perp_order_number = serializers.CharField(allow_blank=True)
        promised_ship_at = serializers.DateTimeField(allow_null=True)
        deadlines = serializers.ListField(child=serializers.DictField())
        rule_runs = serializers.ListField(child=serializers.DictField())

    @extend_schema(
        operation_id="automation_ticket_sla",
        tags=["automation"],
        responses={200: OutputSerializer, 403: ERROR, 404: ERROR},
    )
    def get(self, request: Request, reference: str) -> Response:
        ticket = get_ticket_for_user(user=request.user, reference=reference)
        panel = get_sla_panel(ticket=ticket)
        sla = panel.sla
        return Response(
            {
                "policy": str(sla.policy) if sla and sla.policy else None,
                "perp_order_number": sla.perp_order_number if sla else "",
                "promised_ship_at": sla.promised_ship_at if sla else None,
                "deadlines": self.DeadlineSerializer(panel.deadlines, many=True).data,
                "rule_runs": self.RuleRunSerializer(panel.runs, many=True).data,
            }
        )
