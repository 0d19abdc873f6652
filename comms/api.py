"""REST API of team chat and notifications (mounted under /api/). One view per resource path;
each method parses, checks permission, calls one service or selector and serializes."""

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Action, require
from comms import live, selectors, services
from comms.models import ChannelKind
from core.api_schema import ERROR
from core.errors import NotFound
from core.files import PNG, stored_file_response
from tickets.models import TicketPriority, TicketStatus
from tickets.selectors import get_ticket_for_user

TAGS = ["chat"]


class NewestFirstPagination(CursorPagination):
    ordering = ("-created_at", "-pk")
    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


class ChatUserOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()


class SharedFromTicketOutputSerializer(serializers.Serializer):
    reference = serializers.CharField()
    url = serializers.CharField()


class ChatAttachmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    content_type = serializers.CharField(help_text="Detected from the bytes.")
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    url = serializers.CharField(help_text="Authenticated download (channel readers only).")
    preview_url = serializers.CharField(
        allow_null=True, help_text="PNG thumbnail of an image or PDF, once made."
    )
    state = serializers.CharField()
    ticket = SharedFromTicketOutputSerializer(
        allow_null=True, help_text="A ticket's file shared to chat: the ticket it came from."
    )


class TicketCardOutputSerializer(serializers.Serializer):
    class TicketCardOrderOutputSerializer(serializers.Serializer):
        number = serializers.CharField(help_text="#1001, PD-ORD-10042 or JOB-4411.")
        source = serializers.CharField(help_text="shopify or perp.")

    reference = serializers.CharField()
    url = serializers.CharField()
    subject = serializers.CharField()
    customer = serializers.CharField()
    status = serializers.ChoiceField(choices=TicketStatus.choices)
    status_label = serializers.CharField()
    priority = serializers.ChoiceField(choices=TicketPriority.choices)
    priority_label = serializers.CharField()
    assignee = serializers.CharField(allow_null=True)
    orders = TicketCardOrderOutputSerializer(many=True)


class ChatMessageOutputSerializer(serializers.Serializer):
    """Deleted messages keep their place but lose their body and files."""

    id = serializers.IntegerField()
    channel = serializers.CharField()
    author = ChatUserOutputSerializer()
    body = serializers.CharField()
    body_html = serializers.CharField()
    attachments = ChatAttachmentOutputSerializer(many=True)
    thread_root = serializers.IntegerField(allow_null=True)
    reply_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    is_deleted = serializers.BooleanField()
    ticket = TicketCardOutputSerializer(
        allow_null=True,
        help_text="The root of a ticket discussion carries the ticket's card, read now.",
    )

    def to_representation(self, instance):
        return live.serialize_message(instance)


class ChatMessageInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=services.MAX_BODY_LENGTH, trim_whitespace=True)


def forward_attachment_ids_field(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=20,
        help_text=help_text,
    )


class ChatPostInputSerializer(serializers.Serializer):
    body = serializers.CharField(
        max_length=services.MAX_BODY_LENGTH,
        trim_whitespace=True,
        required=False,
        allow_blank=True,
        default="",
        help_text="May be empty when files are attached.",
    )
    attachments = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text="Files to attach (multipart/form-data); ATTACHMENT_UPLOAD_MAX_BYTES in total.",
    )
    forward_attachment_ids = forward_attachment_ids_field(
        "Ids of ticket files (a ticket message's `attachments[].id`) to share: the stored file "
        "shows like an upload and links its ticket. Public channels only; needs "
        "tickets.view_ticket. An unknown id is a 400 naming this field."
    )


POST_REQUEST = {
    "application/json": ChatPostInputSerializer,
    "multipart/form-data": ChatPostInputSerializer,
}


class ChatChannelOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    topic = serializers.CharField()
    is_archived = serializers.BooleanField()
    is_member = serializers.BooleanField(default=False)
    unread_count = serializers.IntegerField(default=0)
    last_message_at = serializers.DateTimeField(allow_null=True)


class ChannelListApi(APIView):
    @extend_schema(
        operation_id="channels_list",
        tags=TAGS,
        summary="Channels visible to the caller, with unread counts",
        responses={200: ChatChannelOutputSerializer(many=True), 403: ERROR},
    )
    def get(self, request: Request) -> Response:
        require(request.user, Action.VIEW_CHAT)
        channels = selectors.list_channels_for_user(user=request.user)
        return Response(ChatChannelOutputSerializer(channels, many=True).data)


class ChannelCreateApi(APIView):
    class ChannelCreateInputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=80)
        kind = serializers.ChoiceField(
            choices=[ChannelKind.PUBLIC, ChannelKind.PRIVATE], default=ChannelKind.PUBLIC
        )
        topic = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)

    @extend_schema(
        operation_id="channels_create",
        tags=TAGS,
        summary="Create a channel (Managers)",
        request=ChannelCreateInputSerializer,
        responses={201: ChatChannelOutputSerializer, 400: ERROR, 403: ERROR},
    )
    def post(self, request: Request) -> Response:
        data = self.ChannelCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel = services.create_channel(actor=request.user, **data.validated_data)
        return Response(ChatChannelOutputSerializer(channel).data, status=status.HTTP_201_CREATED)


class ChannelJoinApi(APIView):
    @extend_schema(
        operation_id="channels_join",
        tags=TAGS,
        summary="Join a public channel",
        request=None,
        responses={204: OpenApiResponse(description="Joined"), 403: ERROR, 404: ERROR},
    )
    def post(self, request: Request, slug: str) -> Response:
        channel = selectors.get_channel_for_user(user=request.user, slug=slug)
        services.join_channel(channel=channel, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChannelReadApi(APIView):
    @extend_schema(
        operation_id="channels_mark_read",
        tags=TAGS,
        summary="Mark the channel read up to now",
        request=None,
        responses={204: OpenApiResponse(description="Marked read"), 404: ERROR},
    )
    def post(self, request: Request, slug: str) -> Response:
        channel = selectors.get_channel_for_user(user=request.user, slug=slug)
        services.mark_channel_read(channel=channel, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChannelMessagesApi(APIView):
    # Declared on the view so the schema documents the paginated body ({next, previous, results}).
    pagination_class = NewestFirstPagination

    @extend_schema(
        operation_id="channel_messages_list",
        tags=TAGS,
        summary="Top-level messages of a channel, newest first (cursor pagination)",
        responses={200: ChatMessageOutputSerializer(many=True), 404: ERROR},
    )
    def get(self, request: Request, slug: str) -> Response:
        channel = selectors.get_channel_for_user(user=request.user, slug=slug)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.channel_messages_queryset(channel=channel), request, view=self
        )
        return paginator.get_paginated_response(ChatMessageOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="channel_messages_post",
        tags=TAGS,
        summary="Post a message, optionally with files: uploads or shared ticket files "
        "(mentions notify; subscribers get it live)",
        request=POST_REQUEST,
        responses={
            201: ChatMessageOutputSerializer,
            400: OpenApiResponse(
                ERROR,
                description="`fields` names `body`, `attachments` (limit) or "
                "`forward_attachment_ids` (unknown file, or a channel that is not public).",
            ),
            403: OpenApiResponse(
                ERROR, description="May not post in chat, or share ticket files (see tickets)."
            ),
            404: OpenApiResponse(ERROR, description="No such channel visible to the caller."),
            409: OpenApiResponse(ERROR, description="The channel is archived."),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        channel = selectors.get_channel_for_user(user=request.user, slug=slug)
        data = ChatPostInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.post_message(
            channel=channel,
            author=request.user,
            body=data.validated_data["body"],
            uploads=data.validated_data["attachments"],
            forward_attachment_ids=data.validated_data["forward_attachment_ids"],
        )
        return Response(ChatMessageOutputSerializer(message).data, status=status.HTTP_201_CREATED)


class ChannelMessageApi(APIView):
    @extend_schema(
        operation_id="channel_message_edit",
        tags=TAGS,
        summary="Edit your own message",
        request=ChatMessageInputSerializer,
        responses={200: ChatMessageOutputSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
    )
    def patch(self, request: Request, slug: str, message_id: int) -> Response:
        selectors.get_channel_for_user(user=request.user, slug=slug)
        data = ChatMessageInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.edit_message(
            message_id=message_id, user=request.user, body=data.validated_data["body"]
        )
        return Response(ChatMessageOutputSerializer(message).data)

    @extend_schema(
        operation_id="channel_message_delete",
        tags=TAGS,
        summary="Delete your own message (soft delete)",
        responses={204: OpenApiResponse(description="Deleted"), 403: ERROR, 404: ERROR},
    )
    def delete(self, request: Request, slug: str, message_id: int) -> Response:
        selectors.get_channel_for_user(user=request.user, slug=slug)
        services.delete_message(message_id=message_id, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ThreadApi(APIView):
    @extend_schema(
        operation_id="channel_thread_list",
        tags=TAGS,
        summary="Replies in the thread under a message, oldest first",
        responses={200: ChatMessageOutputSerializer(many=True), 404: ERROR},
    )
    def get(self, request: Request, slug: str, message_id: int) -> Response:
        channel = selectors.get_channel_for_user(user=request.user, slug=slug)
        root = selectors.get_channel_message(channel=channel, message_id=message_id)
        replies = selectors.list_thread_replies(root=root)
        return Response(ChatMessageOutputSerializer(replies, many=True).data)

    @extend_schema(
        operation_id="channel_thread_reply",
        tags=TAGS,
        summary="Reply in the thread under a message, optionally with files (uploads or shared "
        "ticket files)",
        request=POST_REQUEST,
        responses={
            201: ChatMessageOutputSerializer,
            400: OpenApiResponse(
                ERROR,
                description="`fields` names `body`, `attachments` or `forward_attachment_ids`.",
            ),
            403: ERROR,
            404: ERROR,
            409: OpenApiResponse(ERROR, description="The channel is archived."),
        },
    )
    def post(self, request: Request, slug: str, message_id: int) -> Response:
        channel = selectors.get_channel_for_user(user=request.user, slug=slug)
        data = ChatPostInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.post_message(
            channel=channel,
            author=request.user,
            body=data.validated_data["body"],
            thread_root_id=message_id,
            uploads=data.validated_data["attachments"],
            forward_attachment_ids=data.validated_data["forward_attachment_ids"],
        )
        return Response(ChatMessageOutputSerializer(message).data, status=status.HTTP_201_CREATED)


class ChatFileDownloadApi(APIView):
    @extend_schema(
        operation_id="chat_files_download",
        tags=TAGS,
        summary="Download a chat file (the `url` of a message's attachment)",
        responses={200: OpenApiResponse(description="The file"), 302: None, 404: None},
    )
    def get(self, request: Request, attachment_id: int) -> HttpResponse:
        attachment = selectors.get_chat_attachment_for_user(
            user=request.user, attachment_id=attachment_id
        )
        return stored_file_response(
            storage_key=attachment.storage_key,
            filename=attachment.filename,
            content_type=attachment.content_type,
        )


class ChatFilePreviewApi(APIView):
    @extend_schema(
        operation_id="chat_files_preview",
        tags=TAGS,
        summary="The PNG thumbnail of a chat image or of a PDF's first page",
        responses={200: OpenApiResponse(description="PNG"), 404: None},
    )
    def get(self, request: Request, attachment_id: int) -> HttpResponse:
        attachment = selectors.get_chat_attachment_for_user(
            user=request.user, attachment_id=attachment_id
        )
        if not attachment.preview_key:
            raise NotFound("No preview yet.", code="no_preview")
        return stored_file_response(
            storage_key=attachment.preview_key,
            filename=f"{attachment.filename}.png",
            content_type=PNG,
        )


class NotificationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    url = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance):
        return services.serialize_notification(instance)


class NotificationListApi(APIView):
    # Declared on the view so the schema documents the paginated body ({next, previous, results}).
    pagination_class = NewestFirstPagination

    class FilterSerializer(serializers.Serializer):
        unread = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="notifications_list",
        tags=["notifications"],
        summary="Your notifications, newest first (cursor pagination)",
        parameters=[FilterSerializer],
        responses={
            200: NotificationOutputSerializer(many=True),
            400: OpenApiResponse(ERROR, description="`unread` is not a boolean."),
            404: OpenApiResponse(ERROR, description="Invalid cursor."),
        },
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = selectors.list_notifications(
            user=request.user, unread_only=filters.validated_data["unread"]
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(NotificationOutputSerializer(page, many=True).data)


class NotificationReadApi(APIView):
    @extend_schema(
        operation_id="notifications_mark_read",
        tags=["notifications"],
        summary="Mark one notification read",
        request=None,
        responses={200: NotificationOutputSerializer, 404: ERROR},
    )
    def post(self, request: Request, notification_id: int) -> Response:
        notification = services.mark_notification_read(
            user=request.user, notification_id=notification_id
        )
        return Response(NotificationOutputSerializer(notification).data)


class NotificationReadAllApi(APIView):
    class NotificationsMarkedSerializer(serializers.Serializer):
        marked = serializers.IntegerField()

    @extend_schema(
        operation_id="notifications_mark_all_read",
        tags=["notifications"],
        summary="Mark all your notifications read",
        request=None,
        responses={200: NotificationsMarkedSerializer},
    )
    def post(self, request: Request) -> Response:
        marked = services.mark_all_notifications_read(user=request.user)
        return Response(self.NotificationsMarkedSerializer({"marked": marked}).data)


class TicketDiscussionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="discussion.pk")
    ticket = serializers.CharField(source="discussion.ticket.reference")
    channel = serializers.CharField(source="channel.slug")
    started_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="discussion.created_at")
    thread_url = serializers.CharField(help_text="The thread in the chat page.")
    root = ChatMessageOutputSerializer(help_text="The first message, with the ticket's card.")
    reply_count = serializers.IntegerField()
    replies = ChatMessageOutputSerializer(many=True, help_text="The latest replies, oldest first.")

    @extend_schema_field(ChatUserOutputSerializer(allow_null=True))
    def get_started_by(self, view) -> dict | None:
        user = view.discussion.started_by
        return live.serialize_user(user) if user is not None else None


class TicketDiscussionsApi(APIView):
    class TicketDiscussionInputSerializer(serializers.Serializer):
        channel = serializers.CharField(
            max_length=80, help_text="Slug of a public, unarchived team channel."
        )
        body = serializers.CharField(max_length=services.MAX_BODY_LENGTH, trim_whitespace=True)
        forward_attachment_ids = forward_attachment_ids_field(
            "Ids of this ticket's stored files to show on the first message (shared, not copied)."
        )

    @extend_schema(
        operation_id="tickets_discussions_list",
        tags=TAGS,
        summary="A ticket's team discussions (chat threads) in channels the caller may read",
        responses={200: TicketDiscussionOutputSerializer(many=True), 403: ERROR, 404: ERROR},
    )
    def get(self, request: Request, reference: str) -> Response:
        ticket = get_ticket_for_user(user=request.user, reference=reference)
        require(request.user, Action.VIEW_CHAT)
        discussions = selectors.list_ticket_discussions(ticket=ticket, user=request.user)
        return Response(TicketDiscussionOutputSerializer(discussions, many=True).data)

    @extend_schema(
        operation_id="tickets_discussions_create",
        tags=TAGS,
        summary="Discuss a ticket in a team channel: a thread whose root carries its card",
        request=TicketDiscussionInputSerializer,
        responses={
            201: TicketDiscussionOutputSerializer,
            400: OpenApiResponse(
                ERROR,
                description="`fields` names the channel, body or `forward_attachment_ids` "
                "(not a stored file of this ticket).",
            ),
            403: ERROR,
            404: ERROR,
        },
    )
    def post(self, request: Request, reference: str) -> Response:
        ticket = get_ticket_for_user(user=request.user, reference=reference)
        require(request.user, Action.POST_CHAT)
        data = self.TicketDiscussionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        discussion = services.start_ticket_discussion(
            ticket=ticket,
            channel=selectors.find_channel(slug=data.validated_data["channel"]),
            author=request.user,
            body=data.validated_data["body"],
            forward_attachment_ids=data.validated_data["forward_attachment_ids"],
        )
        view = selectors.get_ticket_discussion(discussion_id=discussion.pk)
        return Response(TicketDiscussionOutputSerializer(view).data, status=status.HTTP_201_CREATED)
