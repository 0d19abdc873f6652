"""Team chat, notification and presence reads."""

import re
from dataclasses import dataclass

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from accounts.models import User
from accounts.permissions import Action, can
from comms.models import (
    Channel,
    ChannelKind,
    ChannelMember,
    ChannelMessage,
    ChatAttachment,
    Notification,
    PresenceStatus,
    StaffPresence,
    TicketDiscussion,
)
from core.errors import NotFound
from tickets.models import Ticket

TICKET_REFERENCE_RE = re.compile(r"^[A-Za-z0-9-]{1,40}$")
CHANNEL_SLUG_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def is_channel_member(*, user: User, channel: Channel) -> bool:
    return ChannelMember.objects.filter(channel=channel, user=user).exists()


def can_view_channel(*, user: User, channel: Channel) -> bool:
    """Public channels are open to every chat user; private ones to members and Managers;
    direct ones to their two members only."""
    if not can(user, Action.VIEW_CHAT):
        return False
    if channel.kind == ChannelKind.PUBLIC:
        return True
    # Managers oversee private channels (the seeded #managers starts without members).
    if channel.kind == ChannelKind.PRIVATE and can(user, Action.MANAGE_CHANNELS):
        return True
    return is_channel_member(user=user, channel=channel)


def get_channel_for_user(*, user: User, slug: str) -> Channel:
    """The same NotFound whether the channel is missing or the user may not see it."""
    channel = Channel.objects.filter(slug=slug).first() if CHANNEL_SLUG_RE.match(slug) else None
    if channel is None or not can_view_channel(user=user, channel=channel):
        raise NotFound("Channel not found.")
    return channel


def find_channel(*, slug: str) -> Channel | None:
    """The channel named by a form or API field, or None (the caller says what is wrong)."""
    return Channel.objects.filter(slug=slug).first() if CHANNEL_SLUG_RE.match(slug or "") else None


def can_subscribe_channel(*, user: User, slug: str) -> bool:
    try:
        get_channel_for_user(user=user, slug=slug)
    except NotFound:
        return False
    return True


def can_subscribe_ticket(*, user: User, reference: str) -> bool:
    if not can(user, Action.VIEW_TICKETS) or not TICKET_REFERENCE_RE.match(reference):
        return False
    return Ticket.objects.filter(reference=reference).exists()


def list_channels_for_user(*, user: User) -> QuerySet[Channel]:
    """Visible channels with `is_member` and `unread_count` annotated (one query)."""
    if not can(user, Action.VIEW_CHAT):
        return Channel.objects.none()
    membership = ChannelMember.objects.filter(channel=OuterRef("pk"), user=user)
    # Relative to each message row: the reader's membership of that message's channel.
    read_marker = ChannelMember.objects.filter(channel=OuterRef("channel"), user=user)
    unread = (
        ChannelMessage.objects.filter(
            channel=OuterRef("pk"), thread__isnull=True, deleted_at__isnull=True
        )
        .exclude(author=user)
        .filter(
            Q(created_at__gt=Subquery(read_marker.values("last_read_at")[:1]))
            | Q(Exists(read_marker.filter(last_read_at__isnull=True)))
        )
        .order_by()
        .values("channel")
        .annotate(n=Count("pk"))
        .values("n")
    )
    visible = Q(kind=ChannelKind.PUBLIC, is_archived=False) | Q(Exists(membership))
    if can(user, Action.MANAGE_CHANNELS):
        visible |= Q(kind=ChannelKind.PRIVATE)
    return (
        Channel.objects.filter(visible)
        .annotate(
            is_member=Exists(membership),
            unread_count=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)),
        )
        .order_by("kind", "name")
    )


# A discussion root's ticket card (comms.live.serialize_ticket_card) in the same queries.
_CARD_JOINS = (
    "ticket_discussion__ticket__customer",
    "ticket_discussion__ticket__assignee",
    "ticket_discussion__handoff__responded_by",
)
_CARD_ORDERS = "ticket_discussion__ticket__orders"


def _attachments(lookup: str = "attachments") -> Prefetch:
    """A message's files with the ticket each shared one came from (its link), in one query."""
    return Prefetch(
        lookup, queryset=ChatAttachment.objects.select_related("source_attachment__ticket")
    )


def _message_queryset() -> QuerySet[ChannelMessage]:
    return ChannelMessage.objects.select_related(
        "author__presence", "channel", "thread", "thread_root", *_CARD_JOINS
    ).prefetch_related(_attachments(), _CARD_ORDERS)


def list_channel_messages(*, channel: Channel, limit: int = 50) -> list[ChannelMessage]:
    """The latest top-level messages, oldest first."""
    rows = list(
        _message_queryset()
        .filter(channel=channel, thread__isnull=True)
        .order_by("-created_at", "-pk")[:limit]
    )
    rows.reverse()
    return rows


def channel_messages_queryset(*, channel: Channel) -> QuerySet[ChannelMessage]:
    """Top-level messages for cursor pagination (newest first)."""
    return _message_queryset().filter(channel=channel, thread__isnull=True)


def get_channel_message(*, channel: Channel, message_id: int) -> ChannelMessage:
    message = _message_queryset().filter(channel=channel, pk=message_id).first()
    if message is None:
        raise NotFound("Message not found.")
    return message


def list_thread_replies(*, root: ChannelMessage) -> QuerySet[ChannelMessage]:
    return _message_queryset().filter(thread__root_message=root).order_by("created_at", "pk")


def search_channel_messages(
    *, channel: Channel, query: str, limit: int = 50
) -> QuerySet[ChannelMessage]:
    query = query.strip()
    if not query:
        return ChannelMessage.objects.none()
    return (
        _message_queryset()
        .filter(channel=channel, deleted_at__isnull=True, body__icontains=query)
        .order_by("-created_at", "-pk")[:limit]
    )


def list_channel_members(*, channel: Channel) -> QuerySet[User]:
    return (
        User.objects.filter(channel_memberships__channel=channel)
        .select_related("presence")
        .order_by("username")
    )


def list_chat_staff(*, exclude: User | None = None) -> QuerySet[User]:
    """Active staff who can use chat, with their presence (for DMs and presence dots)."""
    staff = (
        User.objects.filter(is_active=True)
        .filter(
            Q(
                groups__permissions__codename="view_channel",
                groups__permissions__content_type__app_label="comms",
            )
            | Q(is_superuser=True)
        )
        .distinct()
        .select_related("presence")
        .order_by("username")
    )
    return staff.exclude(pk=exclude.pk) if exclude is not None else staff


def list_notifications(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    rows = Notification.objects.filter(recipient=user).select_related("actor")
    return rows.filter(read_at__isnull=True) if unread_only else rows


def count_unread_notifications(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def get_presence_statuses(*, user_ids: list[int]) -> dict[int, str]:
    return dict(StaffPresence.objects.filter(user_id__in=user_ids).values_list("user_id", "status"))


def is_any_staff_online() -> bool:
    """Someone active shows "online" (the storefront widget's live/offline switch)."""
    return StaffPresence.objects.filter(status=PresenceStatus.ONLINE, user__is_active=True).exists()


def get_chat_attachment_for_user(*, user: User, attachment_id: int) -> ChatAttachment:
    """A file of a message the user may read: the channel is visible to them (a private or
    direct channel only to its members; Managers oversee private ones) and the message is not
    deleted. The same `NotFound` whether the file is missing or not theirs to see."""
    attachment = (
        ChatAttachment.objects.select_related("message__channel")
        .filter(pk=attachment_id, message__deleted_at__isnull=True)
        .first()
    )
    if attachment is None or not can_view_channel(user=user, channel=attachment.message.channel):
        raise NotFound("No such file.", code="attachment_not_found")
    return attachment


# Ticket discussions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketDiscussionView:
    """One discussion as the ticket page and the API show it: the root, the latest replies."""

    discussion: TicketDiscussion
    root: ChannelMessage
    replies: list[ChannelMessage]
    reply_count: int

    @property
    def channel(self) -> Channel:
        return self.root.channel

    @property
    def thread_url(self) -> str:
        return f"/chat/{self.root.channel.slug}/?thread={self.root.pk}#thread-pane"

    @property
    def earlier_reply_count(self) -> int:
        return self.reply_count - len(self.replies)


def list_discussion_channels(*, user: User) -> QuerySet[Channel]:
    """The team channels a ticket may be discussed in by `user` (public, not archived)."""
    if not (can(user, Action.POST_CHAT) and can(user, Action.VIEW_CHAT)):
        return Channel.objects.none()
    return Channel.objects.filter(kind=ChannelKind.PUBLIC, is_archived=False).order_by("name")


def list_discussion_roots(*, ticket_id: int) -> list[ChannelMessage]:
    """The root messages of a ticket's discussions, ready to serialize with their card."""
    return list(
        _message_queryset()
        .filter(ticket_discussion__ticket_id=ticket_id)
        .order_by("created_at", "pk")
    )


def _discussion_queryset() -> QuerySet[TicketDiscussion]:
    return (
        TicketDiscussion.objects.select_related(
            "started_by",
            "ticket__customer",
            "ticket__assignee",
            "root_message__author",
            "root_message__channel",
            "root_message__thread_root",
        )
        .prefetch_related(_attachments("root_message__attachments"), "ticket__orders")
        .order_by("created_at", "pk")
    )


def _discussion_views(
    discussions: list[TicketDiscussion], *, reply_limit: int
) -> list[TicketDiscussionView]:
    replies: dict[int, list[ChannelMessage]] = {d.root_message_id: [] for d in discussions}
    rows = (
        ChannelMessage.objects.filter(thread__root_message_id__in=list(replies))
        .select_related("author", "channel", "thread")
        .prefetch_related(_attachments())
        .order_by("created_at", "pk")
    )
    for reply in rows:
        replies[reply.thread.root_message_id].append(reply)
    views = []
    for discussion in discussions:
        root = discussion.root_message
        thread = getattr(root, "thread_root", None)
        views.append(
            TicketDiscussionView(
                discussion=discussion,
                root=root,
                replies=replies[root.pk][-reply_limit:],
                reply_count=thread.reply_count if thread is not None else 0,
            )
        )
    return views


def list_ticket_discussions(
    *, ticket: Ticket, user: User, reply_limit: int = 10
) -> list[TicketDiscussionView]:
    """The ticket's discussions in channels `user` may read, oldest first, each with its latest
    `reply_limit` replies: a fixed number of queries however many discussions there are."""
    if not can(user, Action.VIEW_CHAT):
        return []
    discussions = [
        d
        for d in _discussion_queryset().filter(ticket=ticket)
        if can_view_channel(user=user, channel=d.root_message.channel)
    ]
    return _discussion_views(discussions, reply_limit=reply_limit)


def get_ticket_discussion(*, discussion_id: int, reply_limit: int = 10) -> TicketDiscussionView:
    discussion = _discussion_queryset().filter(pk=discussion_id).first()
    if discussion is None:
        raise NotFound("Discussion not found.")
    return _discussion_views([discussion], reply_limit=reply_limit)[0]
