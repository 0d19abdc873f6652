"""REST API of WhatsApp templates (docs/channels.md "WhatsApp templates"): the approved ones an
agent may send, and sending one on a ticket."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action, ActionPermission
from core.api_schema import ERROR
from integrations import message_templates
from tickets.api import MessageOutputSerializer
from tickets.selectors import get_ticket_for_user


class TemplateOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sid = serializers.CharField()
    friendly_name = serializers.CharField()
    language = serializers.CharField()
    body = serializers.CharField()
    category = serializers.CharField()
    variables = serializers.SerializerMethodField()

    def get_variables(self, template) -> list[dict]:
        return [
            {"name": name, "placeholder": template.placeholders.get(name, "")}
            for name in message_templates.template_variables(template)
        ]


class WhatsAppTemplateListApi(APIView):
    permission_classes = [ActionPermission]
    required_action = Action.REPLY_TICKET

    @extend_schema(tags=["tickets"], responses={200: TemplateOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        templates = message_templates.list_sendable_templates()
        return Response(TemplateOutputSerializer(templates, many=True).data)


class TicketTemplateMessageApi(APIView):
    """Send an approved WhatsApp template on the ticket (allowed outside the 24-hour window)."""

    permission_classes = [ActionPermission]
    required_action = Action.REPLY_TICKET

    class InputSerializer(serializers.Serializer):
        template = serializers.IntegerField()
        variables = serializers.DictField(
            child=serializers.CharField(allow_blank=True), required=False
        )

    @extend_schema(
        tags=["tickets"],
        request=InputSerializer,
        # 404: no ticket or template; 409: the template is not approved, or the customer opted out.
        responses={201: MessageOutputSerializer, **dict.fromkeys((400, 403, 404, 409), ERROR)},
    )
    def post(self, request: Request, reference: str) -> Response:
        ticket = get_ticket_for_user(user=request.user, reference=reference)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = message_templates.send_template_reply(
            ticket=ticket,
            author=request.user,
            template_id=data.validated_data["template"],
            variables=data.validated_data.get("variables"),
        )
        return Response(MessageOutputSerializer(message).data, status=201)
