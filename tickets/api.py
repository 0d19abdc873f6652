"""REST API of the tickets app: one APIView per resource operation, nested Input/Output
serializers, every write through a service. Permissions are checked by the services and
selectors (403); unknown references are 404; illegal transitions 409."""

from dataclasses import asdict

from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action, require
from core.api_schema import ERROR
from tickets import (
    bulk,
    consent,
    custom_fields,
    merges,
    routing,
    saved_replies,
    selectors,
    services,
)
from tickets.models import (
    AttachmentState,
    ChannelKind,
    DeliveryStatus,
    HandoffState,
    HistoryKind,
    IdentityKind,
    MessageDirection,
    OptOutReason,
    Ticket,
    TicketPriority,
    TicketStatus,
)
from tickets.policy import list_send_decisions
from tickets.rendering import sanitize_html
from tickets.scheduled_api import ScheduledReplyOutputSerializer, schedule_reply_from_api

ERRORS = {400: ERROR, 403: ERROR, 404: ERROR}
WRITE_ERRORS = {**ERRORS, 409: ERROR}


def _validated(serializer_class: type[serializers.Serializer], data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# Shared shapes ---------------------------------------------------------------------------------


class StaffRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="__str__")


class TeamRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()


class CustomerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="__str__")


class TicketOutputSerializer(serializers.Serializer):
    reference = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=TicketStatus.choices)
    priority = serializers.ChoiceField(choices=TicketPriority.choices)
    channel = serializers.ChoiceField(choices=ChannelKind.choices)
    is_escalated = serializers.BooleanField()
    is_unverified_sender = serializers.BooleanField(
        help_text="Opened by an email whose DKIM and SPF both failed for its From domain."
    )
    customer = CustomerRefSerializer()
    assignee = StaffRefSerializer(allow_null=True)
    team = TeamRefSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    last_message_at = serializers.DateTimeField(allow_null=True)
    last_customer_message_at = serializers.DateTimeField(allow_null=True)
    first_response_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(
        allow_null=True, help_text="The SLA clock's next deadline (automation's SLA policies)."
    )
    tags = serializers.SerializerMethodField(help_text="Tag names, sorted.")
    custom_fields = serializers.DictField(
        child=serializers.CharField(), help_text="Custom field values by key."
    )
    is_snoozed = serializers.BooleanField()
    snoozed_until = serializers.DateTimeField(allow_null=True)
    is_snoozed_until_reply = serializers.BooleanField()
    woke_at = serializers.DateTimeField(allow_null=True, help_text="When a snooze last ended.")

    def get_tags(self, ticket) -> list[str]:
        # .all(): the prefetched rows (list and detail selectors prefetch `tags`).
        return sorted(tag.name for tag in ticket.tags.all())


class TicketListItemSerializer(TicketOutputSerializer):
    is_unread = serializers.BooleanField()


class OptOutOutputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ChannelKind.choices)
    address = serializers.CharField()
    reason = serializers.ChoiceField(choices=OptOutReason.choices)
    detail = serializers.CharField()
    since = serializers.DateTimeField()
    message = serializers.CharField()


class SendWindowOutputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ChannelKind.choices, source="window.channel")
    state = serializers.ChoiceField(
        choices=["unrestricted", "open", "human_agent", "closed"], source="window.state"
    )
    closes_at = serializers.DateTimeField(allow_null=True, source="window.closes_at")
    last_inbound_at = serializers.DateTimeField(allow_null=True, source="window.last_inbound_at")
    summary = serializers.CharField(source="window.summary")
    action = serializers.ChoiceField(
        choices=["send", "send_with_tag", "needs_template", "refused"],
        help_text="What a staff reply on this channel gets now.",
    )
    code = serializers.CharField(help_text="Why not, when the action is not a send.")
    reason = serializers.CharField()
    tag = serializers.CharField(help_text="Meta message tag a reply carries (HUMAN_AGENT).")


class TicketDetailOutputSerializer(TicketOutputSerializer):
    follow_up_of = serializers.CharField(source="follow_up_of.reference", allow_null=True)
    merged_into = serializers.CharField(source="merged_into.reference", allow_null=True)
    opt_outs = serializers.SerializerMethodField(
        help_text="Channels a reply is refused on because the customer opted out there."
    )

    send_windows = serializers.SerializerMethodField(
        help_text="Per channel, the provider's messaging window and what a reply gets now "
        "(docs/channels.md, Messaging windows)."
    )

    @extend_schema_field(SendWindowOutputSerializer(many=True))
    def get_send_windows(self, ticket) -> list[dict]:
        return SendWindowOutputSerializer(
            list_send_decisions(ticket=ticket, is_human=True), many=True
        ).data

    @extend_schema_field(OptOutOutputSerializer(many=True))
    def get_opt_outs(self, ticket) -> list[dict]:
        opt_outs = consent.list_channel_opt_outs(ticket=ticket)
        return OptOutOutputSerializer(
            [{**asdict(opt_out), "message": opt_out.message} for opt_out in opt_outs.values()],
            many=True,
        ).data


class AttachmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    content_type = serializers.CharField(help_text="Detected from the bytes; empty until stored.")
    size = serializers.IntegerField(allow_null=True)
    sha256 = serializers.CharField()
    url = serializers.SerializerMethodField(help_text="Authenticated download.")
    state = serializers.ChoiceField(choices=AttachmentState.choices)

    def get_url(self, attachment) -> str:
        return reverse("tickets:attachment", args=[attachment.pk])


class MessageOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    direction = serializers.ChoiceField(choices=MessageDirection.choices)
    channel = serializers.ChoiceField(choices=ChannelKind.choices)
    author = StaffRefSerializer(allow_null=True)
    sender = serializers.CharField()
    recipient = serializers.CharField()
    body = serializers.CharField()
    content_sid = serializers.CharField(help_text="WhatsApp template (Twilio ContentSid), if any.")
    content_variables = serializers.DictField(child=serializers.CharField())
    body_html = serializers.SerializerMethodField(help_text="Sanitized with nh3.")
    attachments = AttachmentOutputSerializer(many=True)
    is_automated = serializers.BooleanField()
    is_auto_reply = serializers.BooleanField(help_text="An inbound auto-reply: never answered.")
    external_author = serializers.CharField(
        help_text="Sent outside Printdesk, e.g. 'sent from Meta inbox'."
    )
    delivery_status = serializers.ChoiceField(choices=DeliveryStatus.choices, allow_blank=True)
    is_sandbox = serializers.BooleanField()
    error_code = serializers.CharField()
    error_subcode = serializers.CharField(help_text="The provider's subcode (Meta).")
    error_message = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)

    def get_body_html(self, message) -> str:
        return str(sanitize_html(message.body_html)) if message.body_html else ""


class NoteOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = StaffRefSerializer(allow_null=True)
    body = serializers.CharField()
    attachments = AttachmentOutputSerializer(many=True)
    is_automated = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class HandoffOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ticket = serializers.CharField(source="ticket.reference")
    from_agent = StaffRefSerializer(allow_null=True)
    to_agent = StaffRefSerializer(allow_null=True)
    to_team = TeamRefSerializer(allow_null=True)
    is_open = serializers.BooleanField(help_text="Addressed to no one: the first taker wins.")
    reason = serializers.CharField()
    context_summary = serializers.CharField()
    state = serializers.ChoiceField(choices=HandoffState.choices)
    responded_by = StaffRefSerializer(allow_null=True)
    response_note = serializers.CharField()
    created_at = serializers.DateTimeField()
    responded_at = serializers.DateTimeField(allow_null=True)


class EscalationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ticket = serializers.CharField(source="ticket.reference")
    escalated_by = StaffRefSerializer(allow_null=True)
    to_user = StaffRefSerializer(allow_null=True)
    to_team = TeamRefSerializer(allow_null=True)
    reason = serializers.CharField()
    previous_priority = serializers.ChoiceField(choices=TicketPriority.choices)
    new_priority = serializers.ChoiceField(choices=TicketPriority.choices)
    created_at = serializers.DateTimeField()


def _ticket(request: Request, reference: str) -> Ticket:
    return selectors.get_ticket_for_user(user=request.user, reference=reference)


def _detail(ticket: Ticket) -> dict:
    return TicketDetailOutputSerializer(ticket).data


# Tickets ---------------------------------------------------------------------------------------


class TicketListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        view = serializers.ChoiceField(
            choices=[v.value for v in selectors.InboxView], default=selectors.InboxView.ALL
        )
        status = serializers.ChoiceField(choices=TicketStatus.choices, required=False)
        priority = serializers.ChoiceField(choices=TicketPriority.choices, required=False)
        channel = serializers.ChoiceField(choices=ChannelKind.choices, required=False)
        assignee = serializers.IntegerField(required=False)
        team = serializers.IntegerField(required=False)
        q = serializers.CharField(required=False, max_length=200, help_text="Free text search.")
        order = serializers.CharField(
            required=False, max_length=64, help_text="Linked order number: #1001, PD-ORD-10042."
        )
        tag = serializers.CharField(
            required=False, max_length=40, help_text="Tickets with this tag."
        )
        field = serializers.CharField(
            required=False, max_length=250, help_text="A custom field value: key:value."
        )
        sla = serializers.ChoiceField(
            choices=list(selectors.SLA_FILTER_LABELS.items()),
            required=False,
            help_text="Open tickets by their SLA clock: breaching within the hour, or past it.",
        )
        sort = serializers.ChoiceField(choices=list(selectors.INBOX_SORTS), default="-updated")
        cursor = serializers.CharField(required=False)
        limit = serializers.IntegerField(min_value=1, max_value=100, default=50)

    class OutputSerializer(serializers.Serializer):
        results = TicketListItemSerializer(many=True)
        next_cursor = serializers.CharField(allow_null=True)
        next = serializers.CharField(allow_null=True)

    class InputSerializer(serializers.Serializer):
        channel = serializers.ChoiceField(choices=ChannelKind.choices)
        subject = serializers.CharField(max_length=255)
        customer = serializers.IntegerField(required=False, help_text="An existing customer id.")
        identity_value = serializers.CharField(
            required=False,
            default="",
            help_text="Or the customer's address/number/id on `channel`; found or created.",
        )
        customer_name = serializers.CharField(required=False, default="", max_length=200)
        priority = serializers.ChoiceField(
            choices=TicketPriority.choices, default=TicketPriority.NORMAL
        )
        body = serializers.CharField(
            required=False, default="", help_text="Optional first message, sent as a reply."
        )

    @extend_schema(
        operation_id="tickets_list",
        tags=["tickets"],
        summary="List tickets: inbox views, filters, search, keyset (cursor) pagination",
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        params = _validated(self.FilterSerializer, request.query_params)
        filters = selectors.InboxFilters(
            view=params["view"],
            status=params.get("status", ""),
            priority=params.get("priority", ""),
            channel=params.get("channel", ""),
            assignee=params.get("assignee"),
            team=params.get("team"),
            q=params.get("q", ""),
            sort=params["sort"],
            order=params.get("order", ""),
            sla=params.get("sla", ""),
            tag=params.get("tag", ""),
            field=params.get("field", ""),
        )
        page = selectors.list_inbox(
            user=request.user,
            filters=filters,
            cursor=params.get("cursor"),
            limit=params["limit"],
        )
        next_url = None
        if page.next_cursor:
            query = request.query_params.copy()
            query["cursor"] = page.next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        data = {"results": page.tickets, "next_cursor": page.next_cursor, "next": next_url}
        return Response(self.OutputSerializer(data).data)

    @extend_schema(
        operation_id="tickets_create",
        tags=["tickets"],
        summary="Open a ticket for a customer (by id, or by their address on the channel)",
        request=InputSerializer,
        responses={201: TicketDetailOutputSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _validated(self.InputSerializer, request.data)
        customer_id = data.pop("customer", None)
        customer = (
            selectors.get_customer_for_user(user=request.user, customer_id=customer_id)
            if customer_id is not None
            else None
        )
        ticket = bulk.create_ticket(actor=request.user, customer=customer, **data)
        ticket = _ticket(request, ticket.reference)
        return Response(_detail(ticket), status=status.HTTP_201_CREATED)


class TicketDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=TicketStatus.choices, required=False)
        priority = serializers.ChoiceField(choices=TicketPriority.choices, required=False)
        assignee = serializers.IntegerField(required=False, allow_null=True)
        team = serializers.IntegerField(required=False, allow_null=True)
        tags = serializers.ListField(
            child=serializers.CharField(max_length=40),
            required=False,
            max_length=20,
            help_text="Replaces the ticket's tags.",
        )
        custom_fields = serializers.DictField(
            child=serializers.CharField(allow_blank=True, allow_null=True),
            required=False,
            help_text="Custom field values by key; blank or null clears one.",
        )

    @extend_schema(
        operation_id="tickets_retrieve",
        tags=["tickets"],
        responses={200: TicketDetailOutputSerializer, **ERRORS},
    )
    def get(self, request: Request, reference: str) -> Response:
        return Response(_detail(_ticket(request, reference)))

    @extend_schema(
        operation_id="tickets_update",
        tags=["tickets"],
        summary="Change status, priority, assignee, team and/or tags (all or nothing)",
        request=InputSerializer,
        responses={200: TicketDetailOutputSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, reference: str) -> Response:
        ticket = _ticket(request, reference)
        data = _validated(self.InputSerializer, request.data)
        reassign = "assignee" in data or "team" in data
        bulk.update_ticket(
            ticket=ticket,
            actor=request.user,
            status=data.get("status"),
            priority=data.get("priority"),
            reassign=reassign,
            assignee=(
                selectors.get_staff_by_id(user_id=data["assignee"], field="assignee")
                if "assignee" in data
                else ticket.assignee
            ),
            team=(
                selectors.get_team_by_id(team_id=data["team"]) if "team" in data else ticket.team
            ),
            tags=data.get("tags"),
            custom_fields=data.get("custom_fields"),
        )
        return Response(_detail(_ticket(request, reference)))


class FilesInputMixin(serializers.Serializer):
    attachments = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text="Files to attach (multipart/form-data).",
    )
    forward_attachment_ids = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Ids of files already on this ticket to send again (e.g. the customer's own).",
    )


def _files(data: dict) -> dict:
    return {
        "uploads": data.get("attachments") or [],
        "forward_attachment_ids": data.get("forward_attachment_ids") or [],
    }


class TicketMessagesApi(APIView):
    class InputSerializer(FilesInputMixin):
        body = serializers.CharField(required=False, allow_blank=True, default="")
        channel = serializers.ChoiceField(
            choices=ChannelKind.choices,
            required=False,
            help_text="Defaults to the channel the customer last wrote on.",
        )
        set_status = serializers.ChoiceField(
            choices=TicketStatus.choices,
            required=False,
            help_text="Also move the ticket to this status (e.g. reply and mark pending).",
        )
        last_seen_message_id = serializers.IntegerField(
            required=False,
            help_text="The newest message you saw: if someone else replied since, 409 "
            "`reply_collision`.",
        )
        confirm_send = serializers.BooleanField(
            required=False, default=False, help_text="Send even if someone else replied since."
        )
        send_at = serializers.DateTimeField(
            required=False,
            help_text="Send later: a future time, at most 30 days ahead. The reply is stored as a "
            "scheduled reply (202) and sent then through the same policy; files are not scheduled.",
        )

    @extend_schema(
        operation_id="tickets_messages_list",
        tags=["tickets"],
        summary="The customer conversation (inbound and outbound with delivery status)",
        responses={200: MessageOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, reference: str) -> Response:
        ticket = _ticket(request, reference)
        messages = ticket.messages.select_related("author").prefetch_related("attachments")
        return Response(MessageOutputSerializer(messages, many=True).data)

    @extend_schema(
        operation_id="tickets_messages_reply",
        tags=["tickets"],
        summary="Reply to the customer now (queued; delivered by the omnichannel router) or "
        "later (`send_at`)",
        description="JSON, or multipart/form-data with `attachments` files. Files are checked "
        "against the channel's provider limits (400 `files_too_large` naming the limit). With "
        "`send_at` the answer is 202 with the scheduled reply (400 naming `send_at` when it is "
        "past, more than 30 days ahead, or comes with files; 409 when the channel's window will "
        "have closed by then).",
        request={"application/json": InputSerializer, "multipart/form-data": InputSerializer},
        responses={
            201: MessageOutputSerializer,
            202: ScheduledReplyOutputSerializer,
            **WRITE_ERRORS,
        },
    )
    def post(self, request: Request, reference: str) -> Response:
        ticket = _ticket(request, reference)
        data = _validated(self.InputSerializer, request.data)
        if "send_at" in data:
            reply = schedule_reply_from_api(ticket=ticket, user=request.user, data=data)
            return Response(ScheduledReplyOutputSerializer(reply).data, status=202)
        message = services.reply_to_ticket(
            ticket=ticket,
            author=request.user,
            body=data["body"],
            channel=data.get("channel"),
            set_status=data.get("set_status"),
            last_seen_message_id=None if data["confirm_send"] else data.get("last_seen_message_id"),
            **_files(data),
        )
        return Response(MessageOutputSerializer(message).data, status=status.HTTP_201_CREATED)


class TicketEventOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=HistoryKind.choices)
    name = serializers.CharField(help_text="The field, rule or SLA metric; may be empty.")
    actor = StaffRefSerializer(allow_null=True, help_text="Null: the system.")
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    created_at = serializers.DateTimeField()


class TicketEventsApi(APIView):
    @extend_schema(
        operation_id="tickets_events_list",
        tags=["tickets"],
        summary="The ticket's history: every change with actor, kind, before/after and time",
        responses={200: TicketEventOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, reference: str) -> Response:
        ticket = _ticket(request, reference)
        history = selectors.list_ticket_events(ticket=ticket)
        return Response(TicketEventOutputSerializer(history, many=True).data)


class TicketNotesApi(APIView):
    class InputSerializer(FilesInputMixin):
        body = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="tickets_notes_list",
        tags=["tickets"],
        responses={200: NoteOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, reference: str) -> Response:
        ticket = _ticket(request, reference)
        notes = ticket.notes.select_related("author").prefetch_related("attachments")
        return Response(NoteOutputSerializer(notes, many=True).data)

    @extend_schema(
        operation_id="tickets_notes_create",
        tags=["tickets"],
        summary="Add an internal note (never sent to the customer), optionally with files",
        request={"application/json": InputSerializer, "multipart/form-data": InputSerializer},
        responses={201: NoteOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, reference: str) -> Response:
        ticket = _ticket(request, reference)
        data = _validated(self.InputSerializer, request.data)
        note = services.add_internal_note(
            ticket=ticket, author=request.user, body=data["body"], **_files(data)
        )
        return Response(NoteOutputSerializer(note).data, status=status.HTTP_201_CREATED)


class TicketAssignApi(APIView):
    class InputSerializer(serializers.Serializer):
        assignee = serializers.IntegerField(
            required=False, allow_null=True, help_text="Staff id; null unassigns; omit to keep."
        )
        team = serializers.IntegerField(
            required=False, allow_null=True, help_text="Team id; null clears; omit to keep."
        )
        reason = serializers.CharField(required=False, default="", max_length=255)

    @extend_schema(
        operation_id="tickets_assign",
        tags=["tickets"],
        summary="Assign to an agent and/or team (Agents may only take tickets themselves)",
        request=InputSerializer,
        responses={200: TicketDetailOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, reference: str) -> Response:
        ticket = _ticket(request, reference)
        data = _validated(self.InputSerializer, request.data)
        services.check_can_assign(actor=request.user, assignee_id=data.get("assignee"))
        services.assign_ticket(
            ticket=ticket,
            actor=request.user,
            assignee=(
                selectors.get_staff_by_id(user_id=data["assignee"], field="assignee")
                if "assignee" in data
                else ticket.assignee
            ),
            team=(
                selectors.get_team_by_id(team_id=data["team"]) if "team" in data else ticket.team
            ),
            reason=data["reason"],
        )
        return Response(_detail(_ticket(request, reference)))


class TicketEscalateApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField()
        to_user = serializers.IntegerField(required=False, help_text="A Manager's id.")
        to_team = serializers.IntegerField(required=False)
        priority = serializers.ChoiceField(
            choices=TicketPriority.choices,
            required=False,
            help_text="Defaults to one step above the current priority.",
        )

    @extend_schema(
        operation_id="tickets_escalate",
        tags=["tickets"],
        request=InputSerializer,
        responses={201: EscalationOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, reference: str) -> Response:
        ticket = _ticket(request, reference)
        data = _validated(self.InputSerializer, request.data)
        require(request.user, Action.ESCALATE_TICKET)  # before the target ids are looked up
        escalation = routing.escalate_ticket(
            ticket=ticket,
            actor=request.user,
            reason=data["reason"],
            to_user=selectors.get_staff_by_id(user_id=data.get("to_user"), field="to_user"),
            to_team=selectors.get_team_by_id(team_id=data.get("to_team"), field="to_team"),
            priority=data.get("priority"),
        )
        return Response(EscalationOutputSerializer(escalation).data, status=status.HTTP_201_CREATED)


class TicketHandoffsApi(APIView):
    class InputSerializer(serializers.Serializer):
        to_agent = serializers.IntegerField(required=False)
        to_team = serializers.IntegerField(required=False)
        reason = serializers.CharField(max_length=255)
        context_summary = serializers.CharField(required=False, default="")

    @extend_schema(
        operation_id="tickets_handoffs_list",
        tags=["tickets"],
        responses={200: HandoffOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, reference: str) -> Response:
        ticket = _ticket(request, reference)
        handoffs = ticket.handoffs.select_related(
            "ticket", "from_agent", "to_agent", "to_team", "responded_by"
        )
        return Response(HandoffOutputSerializer(handoffs, many=True).data)

    @extend_schema(
        operation_id="tickets_handoffs_create",
        tags=["tickets"],
        summary="Ask another agent or a team to take the ticket over",
        request=InputSerializer,
        responses={201: HandoffOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, reference: str) -> Response:
        ticket = _ticket(request, reference)
        data = _validated(self.InputSerializer, request.data)
        require(request.user, Action.HANDOFF_TICKET)  # before the target ids are looked up
        handoff = routing.request_handoff(
            ticket=ticket,
            actor=request.user,
            reason=data["reason"],
            to_agent=selectors.get_staff_by_id(user_id=data.get("to_agent"), field="to_agent"),
            to_team=selectors.get_team_by_id(team_id=data.get("to_team"), field="to_team"),
            context_summary=data["context_summary"],
        )
        return Response(HandoffOutputSerializer(handoff).data, status=status.HTTP_201_CREATED)


class HandoffAcceptApi(APIView):
    @extend_schema(
        operation_id="tickets_handoffs_accept",
        tags=["tickets"],
        summary="Accept a handoff addressed to you (or your team): the ticket becomes yours",
        request=None,
        responses={200: HandoffOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, reference: str, handoff_id: int) -> Response:
        require(request.user, Action.HANDOFF_TICKET)
        handoff = selectors.get_handoff(ticket=_ticket(request, reference), handoff_id=handoff_id)
        handoff = routing.accept_handoff(handoff=handoff, actor=request.user)
        return Response(HandoffOutputSerializer(handoff).data)


class HandoffDeclineApi(APIView):
    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(required=False, default="", max_length=255)

    @extend_schema(
        operation_id="tickets_handoffs_decline",
        tags=["tickets"],
        request=InputSerializer,
        responses={200: HandoffOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, reference: str, handoff_id: int) -> Response:
        require(request.user, Action.HANDOFF_TICKET)
        handoff = selectors.get_handoff(ticket=_ticket(request, reference), handoff_id=handoff_id)
        data = _validated(self.InputSerializer, request.data)
        handoff = routing.decline_handoff(handoff=handoff, actor=request.user, note=data["note"])
        return Response(HandoffOutputSerializer(handoff).data)


class TicketMergeApi(APIView):
    class InputSerializer(serializers.Serializer):
        into = serializers.CharField(help_text="Reference of the ticket to merge this one into.")

    @extend_schema(
        operation_id="tickets_merge",
        tags=["tickets"],
        summary="Merge this ticket into another; this one is closed and points at it",
        request=InputSerializer,
        responses={200: TicketDetailOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, reference: str) -> Response:
        # Permission before existence: neither reference is looked up for a caller who may not
        # merge, so 403 never tells them which tickets exist.
        require(request.user, Action.MERGE)
        source = _ticket(request, reference)
        data = _validated(self.InputSerializer, request.data)
        target = merges.merge_tickets(
            source=source, target=_ticket(request, data["into"]), actor=request.user
        )
        return Response(_detail(_ticket(request, target.reference)))


class TicketBulkApi(APIView):
    class InputSerializer(serializers.Serializer):
        tickets = serializers.ListField(child=serializers.CharField(), min_length=1, max_length=500)
        action = serializers.ChoiceField(choices=bulk.BULK_ACTIONS)
        status = serializers.ChoiceField(choices=TicketStatus.choices, required=False)
        assignee = serializers.IntegerField(required=False, allow_null=True)
        team = serializers.IntegerField(required=False, allow_null=True)

    class OutputSerializer(serializers.Serializer):
        updated = serializers.IntegerField()

    @extend_schema(
        operation_id="tickets_bulk",
        tags=["tickets"],
        summary="Assign, set status or close many tickets in one transaction",
        request=InputSerializer,
        responses={200: OutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _validated(self.InputSerializer, request.data)
        require(request.user, Action.VIEW_TICKETS)
        if data["action"] == "assign":
            services.check_can_assign(actor=request.user, assignee_id=data.get("assignee"))
        updated = bulk.bulk_update_tickets(
            tickets=selectors.list_tickets_by_reference(references=data["tickets"]),
            actor=request.user,
            action=data["action"],
            status=data.get("status"),
            assignee=selectors.get_staff_by_id(user_id=data.get("assignee"), field="assignee"),
            team=selectors.get_team_by_id(team_id=data.get("team")),
        )
        return Response(self.OutputSerializer({"updated": updated}).data)


# Customers -------------------------------------------------------------------------------------


class IdentityOutputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IdentityKind.choices)
    value = serializers.CharField()
    is_primary = serializers.BooleanField()
    opted_out_at = serializers.DateTimeField(allow_null=True)
    opt_out_reason = serializers.CharField()


class CustomerOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    identities = IdentityOutputSerializer(many=True, source="identities.all")
    shopify_customer_id = serializers.CharField()
    perp_customer_id = serializers.CharField()
    custom_fields = serializers.DictField(
        child=serializers.CharField(), help_text="Customer field values by key."
    )
    created_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField()

    def get_url(self, customer) -> str:
        return reverse("tickets:customer", args=[customer.pk])


class CustomerListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(
            required=False, default="", help_text="Name, email, phone or platform id."
        )
        field = serializers.CharField(
            required=False, default="", max_length=250, help_text="A customer field: key:value."
        )
        limit = serializers.IntegerField(min_value=1, max_value=100, default=50)

    @extend_schema(
        operation_id="customers_list",
        tags=["customers"],
        summary="Search customers by name or any identity",
        parameters=[FilterSerializer],
        responses={200: CustomerOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        params = _validated(self.FilterSerializer, request.query_params)
        customers = selectors.search_customers(
            user=request.user, q=params["q"], field=params["field"], limit=params["limit"]
        )
        return Response(CustomerOutputSerializer(customers, many=True).data)


class CustomerDetailApi(APIView):
    class OutputSerializer(CustomerOutputSerializer):
        merged_into = serializers.IntegerField(source="merged_into_id", allow_null=True)
        tickets = TicketOutputSerializer(many=True, source="recent_tickets")

    @extend_schema(
        operation_id="customers_retrieve",
        tags=["customers"],
        summary="A customer with identities and their latest 100 tickets",
        responses={200: OutputSerializer, **ERRORS},
    )
    def get(self, request: Request, customer_id: int) -> Response:
        customer = selectors.get_customer_for_user(user=request.user, customer_id=customer_id)
        customer.recent_tickets = selectors.list_customer_tickets(customer=customer)
        return Response(self.OutputSerializer(customer).data)

    class InputSerializer(serializers.Serializer):
        # Named as on tickets (`fields` would shadow DRF's Serializer.fields).
        custom_fields = serializers.DictField(
            child=serializers.CharField(allow_blank=True, allow_null=True),
            help_text="Customer field values by key; blank or null clears one.",
        )

    @extend_schema(
        operation_id="customers_partial_update",
        tags=["customers"],
        summary="Set a customer's custom fields",
        request=InputSerializer,
        responses={200: OutputSerializer, **WRITE_ERRORS},
    )
    def patch(self, request: Request, customer_id: int) -> Response:
        customer = selectors.get_customer_for_user(user=request.user, customer_id=customer_id)
        data = _validated(self.InputSerializer, request.data)
        custom_fields.set_customer_fields(
            customer=customer, actor=request.user, values=data["custom_fields"]
        )
        return self.get(request, customer_id)


class CustomerMergeApi(APIView):
    class InputSerializer(serializers.Serializer):
        source = serializers.IntegerField(help_text="The duplicate customer to fold into this one.")

    @extend_schema(
        operation_id="customers_merge",
        tags=["customers"],
        request=InputSerializer,
        responses={200: CustomerOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, customer_id: int) -> Response:
        require(request.user, Action.MERGE)  # permission before existence, as for tickets
        target = selectors.get_customer_for_user(user=request.user, customer_id=customer_id)
        data = _validated(self.InputSerializer, request.data)
        source = selectors.get_customer_for_user(user=request.user, customer_id=data["source"])
        target = merges.merge_customers(source=source, target=target, actor=request.user)
        return Response(CustomerOutputSerializer(target).data)


# Saved replies ---------------------------------------------------------------------------------


class SavedReplyOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SavedReplyInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    body = serializers.CharField(
        help_text="Placeholders: {{customer_first_name}}, {{ticket_reference}}, {{order_number}}."
    )


class SavedReplyListApi(APIView):
    @extend_schema(
        operation_id="saved_replies_list",
        tags=["saved-replies"],
        responses={200: SavedReplyOutputSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        require(request.user, Action.REPLY_TICKET)
        return Response(SavedReplyOutputSerializer(selectors.list_saved_replies(), many=True).data)

    @extend_schema(
        operation_id="saved_replies_create",
        tags=["saved-replies"],
        request=SavedReplyInputSerializer,
        responses={201: SavedReplyOutputSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = _validated(SavedReplyInputSerializer, request.data)
        reply = saved_replies.create_saved_reply(actor=request.user, **data)
        return Response(SavedReplyOutputSerializer(reply).data, status=status.HTTP_201_CREATED)


class SavedReplyDetailApi(APIView):
    @extend_schema(
        operation_id="saved_replies_retrieve",
        tags=["saved-replies"],
        responses={200: SavedReplyOutputSerializer, **ERRORS},
    )
    def get(self, request: Request, saved_reply_id: int) -> Response:
        require(request.user, Action.REPLY_TICKET)
        reply = selectors.get_saved_reply(saved_reply_id=saved_reply_id)
        return Response(SavedReplyOutputSerializer(reply).data)

    @extend_schema(
        operation_id="saved_replies_update",
        tags=["saved-replies"],
        request=SavedReplyInputSerializer,
        responses={200: SavedReplyOutputSerializer, **ERRORS},
    )
    def put(self, request: Request, saved_reply_id: int) -> Response:
        require(request.user, Action.MANAGE_SAVED_REPLIES)
        reply = selectors.get_saved_reply(saved_reply_id=saved_reply_id)
        data = _validated(SavedReplyInputSerializer, request.data)
        reply = saved_replies.update_saved_reply(saved_reply=reply, actor=request.user, **data)
        return Response(SavedReplyOutputSerializer(reply).data)

    @extend_schema(
        operation_id="saved_replies_delete",
        tags=["saved-replies"],
        responses={204: OpenApiResponse(description="Deleted."), **ERRORS},
    )
    def delete(self, request: Request, saved_reply_id: int) -> Response:
        require(request.user, Action.MANAGE_SAVED_REPLIES)
        reply = selectors.get_saved_reply(saved_reply_id=saved_reply_id)
        saved_replies.delete_saved_reply(saved_reply=reply, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SavedReplyRenderApi(APIView):
    class FilterSerializer(serializers.Serializer):
        ticket = serializers.CharField(help_text="Reference of the ticket to fill placeholders.")

    class OutputSerializer(serializers.Serializer):
        text = serializers.CharField()

    @extend_schema(
        operation_id="saved_replies_render",
        tags=["saved-replies"],
        summary="The saved reply with its placeholders filled for a ticket",
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, **ERRORS},
    )
    def get(self, request: Request, saved_reply_id: int) -> Response:
        params = _validated(self.FilterSerializer, request.query_params)
        ticket = _ticket(request, params["ticket"])
        require(request.user, Action.REPLY_TICKET)
        reply = selectors.get_saved_reply(saved_reply_id=saved_reply_id)
        text = saved_replies.render_saved_reply(saved_reply=reply, ticket=ticket)
        return Response(self.OutputSerializer({"text": text}).data)


def _name_nested_serializers() -> None:
    """drf-spectacular names every nested `InputSerializer` just "Input"; give each a unique
    component name (`TicketAssignInput`, ...) so the schema has no collisions."""
    for view in list(globals().values()):
        if not (isinstance(view, type) and issubclass(view, APIView)):
            continue
        for attr in ("InputSerializer", "OutputSerializer", "FilterSerializer"):
            nested = view.__dict__.get(attr)
            if nested is not None:
                ref_name = view.__name__.removesuffix("Api") + attr.removesuffix("Serializer")
                nested.Meta = type("Meta", (), {"ref_name": ref_name})


_name_nested_serializers()
