"""REST API of scheduled replies ("Send later"): `POST /api/tickets/<ref>/messages/` with
`send_at` schedules one (tickets/api.py); these list, edit, cancel and send them early.
Permissions are the services' (403); a reply that already went is 409 `not_scheduled`."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.api_schema import ERROR
from core.errors import ApplicationError
from tickets import scheduled, selectors
from tickets.models import (
    ChannelKind,
    ScheduledReply,
    ScheduledReplyState,
    Ticket,
    TicketStatus,
)

ERRORS = {400: ERROR, 403: ERROR, 404: ERROR}
WRITE_ERRORS = {**ERRORS, 409: ERROR}


class AuthorRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="__str__")


class ScheduledReplyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ticket = serializers.CharField(source="ticket.reference")
    author = AuthorRefSerializer()
    channel = serializers.ChoiceField(choices=ChannelKind.choices)
    body = serializers.CharField()
    send_at = serializers.DateTimeField()
    set_status = serializers.ChoiceField(choices=TicketStatus.choices, allow_blank=True)
    state = serializers.ChoiceField(choices=ScheduledReplyState.choices)
    message_id = serializers.IntegerField(
        allow_null=True, help_text="The message it became (sent, or skipped with the reason)."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(help_text="Scheduled or last edited.")
    done_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "ScheduledReply"


def _validated(serializer_class: type[serializers.Serializer], data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _ticket(request: Request, reference: str) -> Ticket:
    return selectors.get_ticket_for_user(user=request.user, reference=reference)


def schedule_reply_from_api(*, ticket: Ticket, user: User, data: dict) -> ScheduledReply:
    """`POST .../messages/` with `send_at` (the reply endpoint's validated input)."""
    if data.get("attachments") or data.get("forward_attachment_ids"):
        raise ApplicationError(
            "Files cannot be scheduled: send the reply now, or schedule it without files.",
            code="invalid",
            fields={"send_at": ["Not with files."]},
        )
    return scheduled.schedule_reply(
        ticket=ticket,
        author=user,
        body=data["body"],
        send_at=data["send_at"],
        channel=data.get("channel"),
        set_status=data.get("set_status"),
        last_seen_message_id=None if data["confirm_send"] else data.get("last_seen_message_id"),
    )


class ScheduledRepliesApi(APIView):
    @extend_schema(
        operation_id="tickets_scheduled_replies_list",
        tags=["tickets"],
        summary="The ticket's scheduled replies (waiting, sent, skipped and cancelled)",
        responses={200: ScheduledReplyOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, reference: str) -> Response:
        ticket = _ticket(request, reference)
        replies = ticket.scheduled_replies.select_related("author", "ticket")
        return Response(ScheduledReplyOutputSerializer(replies, many=True).data)


class ScheduledReplyDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        body = serializers.CharField(required=False, allow_blank=True)
        send_at = serializers.DateTimeField(required=False, help_text="At most 30 days ahead.")

    @extend_schema(
        operation_id="tickets_scheduled_replies_update",
        tags=["tickets"],
        summary="Edit a scheduled reply's text or time before it goes (its author only)",
        request=InputSerializer,
        responses={200: ScheduledReplyOutputSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, reference: str, scheduled_reply_id: int) -> Response:
        ticket = _ticket(request, reference)
        data = _validated(self.InputSerializer, request.data)
        reply = scheduled.edit_scheduled_reply(
            ticket=ticket,
            scheduled_reply_id=scheduled_reply_id,
            actor=request.user,
            body=data.get("body"),
            send_at=data.get("send_at"),
        )
        return Response(ScheduledReplyOutputSerializer(reply).data)

    @extend_schema(
        operation_id="tickets_scheduled_replies_cancel",
        tags=["tickets"],
        summary="Cancel a scheduled reply before it goes (its author or a manager)",
        responses={204: OpenApiResponse(description="Cancelled."), **WRITE_ERRORS},
    )
    def delete(self, request: Request, reference: str, scheduled_reply_id: int) -> Response:
        ticket = _ticket(request, reference)
        scheduled.cancel_scheduled_reply(
            ticket=ticket, scheduled_reply_id=scheduled_reply_id, actor=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScheduledReplySendNowApi(APIView):
    @extend_schema(
        operation_id="tickets_scheduled_replies_send_now",
        tags=["tickets"],
        summary="Send a scheduled reply at once (its author or a manager); 409 with the reason "
        "when the channel may not carry it now, and it stays scheduled",
        request=None,
        responses={200: ScheduledReplyOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, reference: str, scheduled_reply_id: int) -> Response:
        ticket = _ticket(request, reference)
        reply = scheduled.send_scheduled_reply_now(
            ticket=ticket, scheduled_reply_id=scheduled_reply_id, actor=request.user
        )
        return Response(ScheduledReplyOutputSerializer(reply).data)


ScheduledReplyDetailApi.InputSerializer.Meta = type(
    "Meta", (), {"ref_name": "ScheduledReplyDetailInput"}
)
