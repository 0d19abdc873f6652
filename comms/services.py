"""Team chat, notification and presence writes."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import NotificationEmails, User
from accounts.permissions import Action, can, require
from comms import attachments, events
from comms.live import publish_message_on_commit
from comms.markup import render_markup
from comms.models import (
    EMAILED_KINDS,
    Channel,
    ChannelKind,
    ChannelMember,
    ChannelMessage,
    ChatAttachment,
    EmailDigest,
    Mention,
    Notification,
    NotificationKind,
    PresenceConnection,
    PresenceStatus,
    StaffPresence,
    Thread,
    TicketDiscussion,
)
from comms.selectors import can_view_channel, is_channel_member
from comms.tasks import generate_chat_attachment_preview, send_notification_digest
from core.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from core.events import publish_on_commit
from core.mentions import parse_mentions
from core.realtime import group_send, user_group
from core.redaction import mask_json, mentions_any
from core.tasks import enqueue_on_commit_after
from tickets import routing
from tickets.models import AgentHandoff, Attachment, Ticket
from tickets.selectors import list_shareable_attachments

MAX_BODY_LENGTH = 4000
PRESENCE_GROUP = "presence"
RESERVED_SLUGS = {"new", "dm", "files"}
# Group names must stay under 100 characters (channels.layers): "channel." + slug.
MAX_SLUG_LENGTH = 80
# Overridable from the environment in helpdesk/settings.py; these are the fallbacks.
REALTIME_DEFAULTS = {
    "PRESENCE_HEARTBEAT_SECONDS": 15.0,
    "PRESENCE_TIMEOUT_SECONDS": 45.0,
    "TYPING_TTL_SECONDS": 6.0,
    "PRESENCE_OFFLINE_GRACE_SECONDS": 5.0,
}


def realtime_setting(name: str) -> float:
    return float(getattr(settings, name, REALTIME_DEFAULTS[name]))


def serialize_notification(notification: Notification) -> dict:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "created_at": notification.created_at.isoformat(),
        "read_at": notification.read_at.isoformat() if notification.read_at else None,
    }


def notify_user(
    *,
    recipient: User,
    kind: NotificationKind | str,
    title: str,
    body: str = "",
    url: str = "",
    actor: User | None = None,
) -> Notification | None:
    """Create a notification for `recipient` and push it to their sockets after commit; a
    mention, assignment or handoff for someone offline is also emailed (in their digest).

    Nobody is notified of their own action, and inactive staff get nothing.
    """
    if not recipient.is_active or (actor is not None and actor.pk == recipient.pk):
        return None
    notification = Notification.objects.create(
        recipient=recipient,
        actor=actor,
        kind=kind,
        title=title[:255],
        body=body,
        url=url,
        email_digest=_email_digest_for(recipient=recipient, kind=kind),
    )
    transaction.on_commit(
        partial(
            group_send,
            user_group(recipient.pk),
            {"type": "notification", "notification": serialize_notification(notification)},
        ),
        robust=True,
    )
    return notification


def _email_digest_for(*, recipient: User, kind: str) -> EmailDigest | None:
    """The email a new notification joins: the recipient's open digest, or a new one sent in
    `NOTIFICATION_DIGEST_MINUTES`. None when it is not emailed: not a kind worth an email, the
    recipient turned emails off or has no address, or has a live socket (then the bell and the
    browser's own notification tell them)."""
    if (
        kind not in EMAILED_KINDS
        or recipient.notification_emails != NotificationEmails.DIGEST
        or not recipient.email
        or _has_live_connection(user_id=recipient.pk)
    ):
        return None
    # FOR UPDATE: the digest task closes this row; once it has, the next notification must
    # open a new digest rather than join one that is already on its way.
    digest = (
        EmailDigest.objects.select_for_update()
        .filter(recipient=recipient, closed_at__isnull=True)
        .first()
    )
    if digest is not None:
        return digest
    window = timedelta(minutes=settings.NOTIFICATION_DIGEST_MINUTES)
    try:
        # A savepoint: another process may open this person's digest at the same moment.
        with transaction.atomic():
            digest = EmailDigest.objects.create(recipient=recipient, due_at=timezone.now() + window)
    except IntegrityError:
        return EmailDigest.objects.select_for_update().get(
            recipient=recipient, closed_at__isnull=True
        )
    enqueue_on_commit_after(send_notification_digest, delay=window, digest_id=digest.pk)
    return digest


@transaction.atomic
def mark_notification_read(*, user: User, notification_id: int) -> Notification:
    notification = Notification.objects.filter(recipient=user, pk=notification_id).first()
    if notification is None:
        raise NotFound("Notification not found.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def mark_all_notifications_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# Chat -------------------------------------------------------------------------------------------


def _clean_body(body: str, *, has_files: bool = False) -> str:
    body = (body or "").strip()
    if not body and not has_files:
        raise ApplicationError(
            "Write a message first.",
            code="empty_message",
            fields={"body": ["Write a message or attach a file."]},
        )
    if len(body) > MAX_BODY_LENGTH:
        raise ApplicationError(
            f"Messages are limited to {MAX_BODY_LENGTH} characters.", code="message_too_long"
        )
    return body


def _check_can_post(*, channel: Channel, user: User) -> None:
    require(user, Action.POST_CHAT)
    if channel.is_archived:
        raise Conflict("This channel is archived.", code="channel_archived")
    if not can_view_channel(user=user, channel=channel):
        raise NotFound("Channel not found.")


def _create_mentions(*, message: ChannelMessage, author: User, skip_user_ids: set[int]) -> None:
    names = parse_mentions(message.body)
    if not names:
        return
    recipients: dict[int, tuple[User, bool]] = {}
    if "channel" in names:
        members = User.objects.filter(channel_memberships__channel=message.channel, is_active=True)
        recipients.update({u.pk: (u, True) for u in members})
    users = User.objects.filter(username__in=names - {"channel"}, is_active=True)
    recipients.update({u.pk: (u, False) for u in users})
    url = f"/chat/{message.channel.slug}/#message-{message.pk}"
    for user_id, (user, is_channel_mention) in recipients.items():
        if user_id == author.pk or user_id in skip_user_ids:
            continue
        if not can_view_channel(user=user, channel=message.channel):
            continue
        Mention.objects.create(
            message=message, mentioned_user=user, is_channel_mention=is_channel_mention
        )
        notify_user(
            recipient=user,
            kind=NotificationKind.MENTION,
            title=f"{author.short_name} mentioned you in #{message.channel.slug}",
            body=message.body[:500],
            url=url,
            actor=author,
        )


def post_message(
    *,
    channel: Channel,
    author: User,
    body: str,
    thread_root_id: int | None = None,
    uploads: list[File] | None = None,
    forward_attachment_ids: list[int] | None = None,
) -> ChannelMessage:
    """Post to a channel (or a thread under `thread_root_id`), optionally with files: uploads,
    and ticket files shared by id (`forward_attachment_ids`, public channels only, by who may
    see tickets). Public channels are joined.

    Files are checked and stored first, without the channel lock, and uploads are removed again
    when the message is refused."""
    uploads = list(uploads or [])
    forward_ids = list(forward_attachment_ids or [])
    body = _clean_body(body, has_files=bool(uploads or forward_ids))
    if not uploads and not forward_ids:
        return _post_message(
            channel=channel,
            author=author,
            body=body,
            thread_root_id=thread_root_id,
            stored=[],
            discussed_ticket=None,
        )
    _check_can_post(channel=channel, user=author)
    shared = _shareable_ticket_files(channel=channel, author=author, attachment_ids=forward_ids)
    attachments.check_chat_files(uploads)
    stored = attachments.chat_files_from_tickets(shared) + attachments.store_uploads(uploads)
    try:
        return _post_message(
            channel=channel,
            author=author,
            body=body,
            thread_root_id=thread_root_id,
            stored=stored,
            discussed_ticket=None,
        )
    except BaseException:
        attachments.discard_uploads(stored)
        raise


def _shareable_ticket_files(
    *, channel: Channel, author: User, attachment_ids: list[int], ticket: Ticket | None = None
) -> list[Attachment]:
    """The ticket files to share, checked: by who may see tickets, to an open team channel, each
    a stored file (of `ticket`, when given)."""
    if not attachment_ids:
        return []
    require(author, Action.VIEW_TICKETS)
    _check_open_team_channel(
        channel=channel, field="forward_attachment_ids", code="invalid_share_channel"
    )
    return list_shareable_attachments(user=author, attachment_ids=attachment_ids, ticket=ticket)


@transaction.atomic
def _post_message(
    *,
    channel: Channel,
    author: User,
    body: str,
    thread_root_id: int | None,
    stored: list[attachments.ChatFile],
    discussed_ticket: Ticket | None,
    offered_handoff: AgentHandoff | None = None,
) -> ChannelMessage:
    """`discussed_ticket` makes the message the root of that ticket's discussion (before it is
    announced, so its first frame already carries the ticket's card, and with `offered_handoff`
    the card's "I'll take it")."""
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    _check_can_post(channel=channel, user=author)
    now = timezone.now()
    thread = None
    if thread_root_id is not None:
        root = ChannelMessage.objects.filter(
            pk=thread_root_id, channel=channel, thread__isnull=True, deleted_at__isnull=True
        ).first()
        if root is None:
            raise NotFound("Thread not found.", code="thread_not_found")
        # FOR UPDATE: two replies at once must both count.
        thread, _ = Thread.objects.select_for_update().get_or_create(
            root_message=root, defaults={"channel": channel}
        )
        thread.reply_count = F("reply_count") + 1
        thread.last_reply_at = now
        thread.save(update_fields=["reply_count", "last_reply_at"])
        thread.refresh_from_db()
    message = ChannelMessage(
        channel=channel, author=author, thread=thread, body=body, body_html=render_markup(body)
    )
    message.full_clean()
    message.save()
    files = attachments.create_chat_attachments(message=message, stored=stored, uploaded_by=author)
    if discussed_ticket is not None:
        TicketDiscussion.objects.create(
            ticket=discussed_ticket,
            root_message=message,
            started_by=author,
            handoff=offered_handoff,
        )
    channel.last_message_at = message.created_at
    channel.save(update_fields=["last_message_at"])
    member, _ = ChannelMember.objects.get_or_create(channel=channel, user=author)
    member.last_read_at = message.created_at
    member.save(update_fields=["last_read_at"])
    _create_mentions(message=message, author=author, skip_user_ids=set())
    _announce(
        name="chat.message_posted",
        actor=author,
        subject=channel,
        properties={
            "message_id": message.pk,
            "in_thread": thread is not None,
            "files": len(files),
            "shared_ticket_files": sum(1 for f in files if f.source_attachment_id),
        },
    )
    publish_message_on_commit(message)
    if thread is not None:
        # The root's reply count changed: subscribers re-render it.
        publish_message_on_commit(thread.root_message)
    for file in files:
        if attachments.needs_preview(file):
            transaction.on_commit(
                partial(generate_chat_attachment_preview.enqueue, attachment_id=file.pk)
            )
    return message


def _check_open_team_channel(*, channel: Channel | None, field: str, code: str) -> Channel:
    """Tickets are discussed, and their files shared, in open team channels only: a ticket's
    subscribers (everyone who may see the ticket) get its discussions live, so a private or
    direct conversation would leak to them, and a customer's file stays where those who may see
    the ticket may see it too."""
    if channel is None or channel.kind != ChannelKind.PUBLIC or channel.is_archived:
        raise ApplicationError(
            "Pick an open team channel.",
            code=code,
            fields={field: ["Pick a public team channel that is not archived."]},
        )
    return channel


def start_ticket_discussion(
    *,
    ticket: Ticket,
    channel: Channel | None,
    author: User,
    body: str,
    forward_attachment_ids: list[int] | None = None,
) -> TicketDiscussion:
    """Discuss in #channel: a thread in a team channel whose root carries the ticket's card and
    the author's first message, optionally with files of this ticket (shared, not copied). The
    author must see the ticket and post in the channel."""
    require(author, Action.VIEW_TICKETS)
    require(author, Action.POST_CHAT)
    channel = _check_open_team_channel(
        channel=channel, field="channel", code="invalid_discussion_channel"
    )
    body = _clean_body(body)
    shared = _shareable_ticket_files(
        channel=channel,
        author=author,
        attachment_ids=list(forward_attachment_ids or []),
        ticket=ticket,
    )
    # Read (a file without its digest yet) before the channel lock is taken.
    stored = attachments.chat_files_from_tickets(shared)
    return _start_ticket_discussion(
        ticket=ticket, channel=channel, author=author, body=body, stored=stored
    )


@transaction.atomic
def _start_ticket_discussion(
    *,
    ticket: Ticket,
    channel: Channel,
    author: User,
    body: str,
    stored: list[attachments.ChatFile],
) -> TicketDiscussion:
    message = _post_message(
        channel=channel,
        author=author,
        body=body,
        thread_root_id=None,
        stored=stored,
        discussed_ticket=ticket,
    )
    _announce(
        name="chat.ticket_discussion_started",
        actor=author,
        subject=message.ticket_discussion,
        properties={"ticket_id": ticket.pk, "channel": channel.slug, "files": len(stored)},
    )
    return message.ticket_discussion


def hand_off_to_channel(
    *,
    ticket: Ticket,
    channel: Channel | None,
    author: User,
    reason: str,
    context_summary: str = "",
) -> TicketDiscussion:
    """Hand off to #channel: tickets' open handoff (no agent or team named), offered in a team
    channel as a discussion whose root says who asks and why, with "I'll take it" on the card.
    The handoff rules (reason required, one pending handoff, closed tickets refused, only the
    assignee or a Manager) are tickets' own."""
    require(author, Action.VIEW_TICKETS)
    require(author, Action.POST_CHAT)
    channel = _check_open_team_channel(
        channel=channel, field="channel", code="invalid_handoff_channel"
    )
    return _hand_off_to_channel(
        ticket=ticket,
        channel=channel,
        author=author,
        reason=reason,
        context_summary=context_summary,
    )


@transaction.atomic
def _hand_off_to_channel(
    *, ticket: Ticket, channel: Channel, author: User, reason: str, context_summary: str
) -> TicketDiscussion:
    handoff = routing.request_handoff(
        ticket=ticket,
        actor=author,
        reason=reason,
        is_open=True,
        context_summary=context_summary,
    )
    message = _post_message(
        channel=channel,
        author=author,
        body=_clean_body(f"Handoff requested by {author.short_name}: {handoff.reason}"),
        thread_root_id=None,
        stored=[],
        discussed_ticket=ticket,
        offered_handoff=handoff,
    )
    _announce(
        name="chat.handoff_offered",
        actor=author,
        subject=message.ticket_discussion,
        properties={"ticket_id": ticket.pk, "channel": channel.slug, "handoff_id": handoff.pk},
    )
    return message.ticket_discussion


def take_channel_handoff(*, handoff_id: int, actor: User) -> TicketDiscussion:
    """ "I'll take it": the first agent who may accept handoffs (as a team's member accepts a
    team handoff) and sees the channel becomes the assignee, through tickets' accept path (which
    writes the ticket's history and re-sends the card). Later presses get 409."""
    require(actor, Action.HANDOFF_TICKET)
    discussion = (
        TicketDiscussion.objects.select_related("root_message__channel", "handoff", "ticket")
        .filter(handoff_id=handoff_id)
        .first()
    )
    if discussion is None or not can_view_channel(
        user=actor, channel=discussion.root_message.channel
    ):
        raise NotFound("Handoff not found.", code="handoff_not_found")
    try:
        routing.accept_handoff(handoff=discussion.handoff, actor=actor)
    except Conflict as exc:
        if exc.code != "handoff_answered":
            raise
        taker = AgentHandoff.objects.select_related("responded_by").get(pk=handoff_id).responded_by
        name = taker.short_name if taker is not None else "someone else"
        raise Conflict(f"Already taken by {name}.", code="handoff_taken") from exc
    _announce(
        name="chat.handoff_taken",
        actor=actor,
        subject=discussion,
        properties={"ticket_id": discussion.ticket_id, "handoff_id": handoff_id},
    )
    discussion.handoff.refresh_from_db()
    return discussion


def share_ticket_files(
    *, channel: Channel | None, author: User, body: str, attachment_ids: list[int]
) -> ChannelMessage:
    """Share to #channel from a ticket: a message in an open team channel carrying the ticket's
    files (their stored bytes, not a copy) with the author's optional comment; each file links
    its ticket."""
    require(author, Action.POST_CHAT)
    channel = _check_open_team_channel(
        channel=channel, field="channel", code="invalid_share_channel"
    )
    if not attachment_ids:
        raise ApplicationError(
            "Pick a file to share.",
            code="no_files",
            fields={"forward_attachment_ids": ["Pick a file of the ticket."]},
        )
    return post_message(
        channel=channel, author=author, body=body, forward_attachment_ids=attachment_ids
    )


@transaction.atomic
def post_system_message(*, channel_slug: str, author: User, body: str) -> ChannelMessage | None:
    """An announcement by a system account (e.g. Automation) in a channel it may not have been
    invited to, private ones included: it is made a member first. None when the channel is gone."""
    channel = Channel.objects.filter(slug=channel_slug, is_archived=False).first()
    if channel is None:
        return None
    ChannelMember.objects.get_or_create(channel=channel, user=author)
    return post_message(channel=channel, author=author, body=body)


def _get_own_message(*, message_id: int, user: User) -> ChannelMessage:
    message = (
        ChannelMessage.objects.select_for_update(of=("self",))
        .select_related("channel", "author", "thread")
        .filter(pk=message_id, deleted_at__isnull=True)
        .first()
    )
    if message is None or not can_view_channel(user=user, channel=message.channel):
        raise NotFound("Message not found.")
    return message


@transaction.atomic
def edit_message(*, message_id: int, user: User, body: str) -> ChannelMessage:
    message = _get_own_message(message_id=message_id, user=user)
    body = _clean_body(body, has_files=message.attachments.exists())
    if message.author_id != user.pk:
        raise PermissionDenied("You can only edit your own messages.", code="not_author")
    _check_can_post(channel=message.channel, user=user)
    already = set(message.mentions.values_list("mentioned_user_id", flat=True))
    message.body = body
    message.body_html = render_markup(body)
    message.edited_at = timezone.now()
    message.full_clean()
    message.save(update_fields=["body", "body_html", "edited_at"])
    _create_mentions(message=message, author=user, skip_user_ids=already)
    _announce(name="chat.message_edited", actor=user, subject=message)
    publish_message_on_commit(message)
    return message


@transaction.atomic
def delete_message(*, message_id: int, user: User) -> ChannelMessage:
    """Soft delete: the row stays (threads hang off it) and shows as deleted."""
    message = _get_own_message(message_id=message_id, user=user)
    if message.author_id != user.pk and not can(user, Action.MANAGE_CHANNELS):
        raise PermissionDenied("You can only delete your own messages.", code="not_author")
    message.deleted_at = timezone.now()
    message.save(update_fields=["deleted_at"])
    _announce(name="chat.message_deleted", actor=user, subject=message)
    publish_message_on_commit(message)
    return message


@transaction.atomic
def mark_channel_read(*, channel: Channel, user: User) -> ChannelMember | None:
    """Move the member's read marker to now; non-members of public channels have none."""
    member = ChannelMember.objects.filter(channel=channel, user=user).first()
    if member is None:
        return None
    member.last_read_at = timezone.now()
    member.save(update_fields=["last_read_at"])
    return member


@transaction.atomic
def join_channel(*, channel: Channel, user: User) -> ChannelMember:
    require(user, Action.VIEW_CHAT)
    if channel.kind != ChannelKind.PUBLIC or channel.is_archived:
        raise PermissionDenied("This channel is by invitation only.", code="invitation_only")
    member, created = ChannelMember.objects.get_or_create(
        channel=channel, user=user, defaults={"last_read_at": timezone.now()}
    )
    if created:
        _announce(name="chat.channel_joined", actor=user, subject=channel)
    return member


@transaction.atomic
def leave_channel(*, channel: Channel, user: User) -> None:
    if channel.kind == ChannelKind.DIRECT:
        raise ApplicationError("You cannot leave a direct conversation.", code="direct_channel")
    deleted, _ = ChannelMember.objects.filter(channel=channel, user=user).delete()
    if deleted:
        _announce(name="chat.channel_left", actor=user, subject=channel)


def _unique_slug(name: str) -> str:
    base = slugify(name)[: MAX_SLUG_LENGTH - 4].strip("-") or "channel"
    if base in RESERVED_SLUGS:
        base = f"{base}-channel"
    slug, n = base, 2
    while Channel.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def create_channel(
    *, actor: User, name: str, kind: str = ChannelKind.PUBLIC, topic: str = ""
) -> Channel:
    require(actor, Action.MANAGE_CHANNELS)
    name = (name or "").strip()
    if not name:
        raise ApplicationError(
            "Give the channel a name.", code="invalid", fields={"name": ["Required."]}
        )
    if kind not in (ChannelKind.PUBLIC, ChannelKind.PRIVATE):
        raise ApplicationError("A channel is public or private.", code="invalid_kind")
    channel = Channel(
        name=name[:80], slug=_unique_slug(name), kind=kind, topic=topic[:255], created_by=actor
    )
    channel.full_clean()
    channel.save()
    ChannelMember.objects.create(channel=channel, user=actor, last_read_at=timezone.now())
    _announce(name="chat.channel_created", actor=actor, subject=channel, properties={"kind": kind})
    return channel


@transaction.atomic
def set_channel_archived(*, channel: Channel, actor: User, is_archived: bool) -> Channel:
    require(actor, Action.MANAGE_CHANNELS)
    if channel.kind == ChannelKind.DIRECT:
        raise ApplicationError("Direct conversations are not archived.", code="direct_channel")
    channel.is_archived = is_archived
    channel.save(update_fields=["is_archived"])
    _announce(
        name="chat.channel_archived" if is_archived else "chat.channel_unarchived",
        actor=actor,
        subject=channel,
    )
    return channel


@transaction.atomic
def add_channel_member(*, channel: Channel, actor: User, user: User) -> ChannelMember:
    require(actor, Action.MANAGE_CHANNELS)
    if channel.kind == ChannelKind.DIRECT:
        raise ApplicationError("Direct conversations have two members.", code="direct_channel")
    if not user.is_active or not can(user, Action.VIEW_CHAT):
        raise ApplicationError("That person cannot use team chat.", code="invalid_member")
    member, created = ChannelMember.objects.get_or_create(channel=channel, user=user)
    if created:
        _announce(
            name="chat.member_added", actor=actor, subject=channel, properties={"user_id": user.pk}
        )
        notify_user(
            recipient=user,
            kind=NotificationKind.SYSTEM,
            title=f"{actor.short_name} added you to #{channel.slug}",
            url=f"/chat/{channel.slug}/",
            actor=actor,
        )
    return member


@transaction.atomic
def remove_channel_member(*, channel: Channel, actor: User, user: User) -> None:
    require(actor, Action.MANAGE_CHANNELS)
    if channel.kind == ChannelKind.DIRECT:
        raise ApplicationError("Direct conversations have two members.", code="direct_channel")
    deleted, _ = ChannelMember.objects.filter(channel=channel, user=user).delete()
    if deleted:
        _announce(
            name="chat.member_removed",
            actor=actor,
            subject=channel,
            properties={"user_id": user.pk},
        )


@transaction.atomic
def open_direct_channel(*, user: User, other: User) -> Channel:
    """The one direct conversation between two staff members (created on first use)."""
    require(user, Action.VIEW_CHAT)
    if other.pk == user.pk or not other.is_active or not can(other, Action.VIEW_CHAT):
        raise ApplicationError("You cannot message that person.", code="invalid_member")
    low, high = sorted((user.pk, other.pk))
    channel, created = Channel.objects.get_or_create(
        slug=f"dm-{low}-{high}",
        defaults={
            "kind": ChannelKind.DIRECT,
            "name": f"{user.short_name} & {other.short_name}"[:80],
            "created_by": user,
        },
    )
    if created:
        now = timezone.now()
        ChannelMember.objects.bulk_create(
            [
                ChannelMember(channel=channel, user=user, last_read_at=now),
                ChannelMember(channel=channel, user=other, last_read_at=now),
            ]
        )
        _announce(name="chat.direct_opened", actor=user, subject=channel)
    elif not is_channel_member(user=user, channel=channel):
        raise NotFound("Channel not found.")
    return channel


# Presence ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PresenceChange:
    user_id: int
    username: str
    status: str

    def as_event(self) -> dict:
        return {
            "type": "presence",
            "user": {"id": self.user_id, "username": self.username},
            "status": self.status,
        }


def presence_timeout() -> timedelta:
    return timedelta(seconds=realtime_setting("PRESENCE_TIMEOUT_SECONDS"))


def _set_status(*, user: User, status: str, only_from: list[str] | None) -> PresenceChange | None:
    """Set the status; `only_from` limits it to those current statuses (a conditional update,
    so of two processes racing to announce the same change only one wins)."""
    now = timezone.now()
    StaffPresence.objects.get_or_create(user=user)
    rows = StaffPresence.objects.filter(user=user)
    if only_from is not None:
        rows = rows.filter(status__in=only_from)
    else:
        rows = rows.exclude(status=status)
    changed = rows.update(status=status, last_seen_at=now, updated_at=now)
    if not changed:
        StaffPresence.objects.filter(user=user).update(last_seen_at=now)
        return None
    return PresenceChange(user_id=user.pk, username=user.username, status=status)


def _lock_presence(*, user_id: int) -> None:
    """Serialise one user's socket opening against their going offline in another process, so a
    socket that opens while the last one's grace ends never leaves its user shown offline."""
    StaffPresence.objects.select_for_update().get_or_create(user_id=user_id)


@transaction.atomic
def register_connection(*, user: User, channel_name: str) -> PresenceChange | None:
    """A socket opened: online unless the user was already around (then nothing changes), which
    includes a socket that reopens within the offline grace (a page load, a server restart)."""
    _lock_presence(user_id=user.pk)
    PresenceConnection.objects.update_or_create(
        channel_name=channel_name, defaults={"user": user, "last_heartbeat_at": timezone.now()}
    )
    return _set_status(user=user, status=PresenceStatus.ONLINE, only_from=[PresenceStatus.OFFLINE])


@transaction.atomic
def unregister_connection(*, channel_name: str) -> int | None:
    """A socket closed. Returns its user's id when it was their last live one: they go offline
    through `settle_offline` once `PRESENCE_OFFLINE_GRACE_SECONDS` pass without a new socket.

    Every page load closes the staff socket and opens another (one per tab), so announcing the
    close at once would send every staff socket an offline and an online frame per navigation:
    with n agents, n² frames for what is no change (bench/README.md, "Fan-out at 1,000").
    """
    connection = PresenceConnection.objects.filter(channel_name=channel_name).first()
    if connection is None:
        return None
    user_id = connection.user_id
    connection.delete()
    StaffPresence.objects.filter(user_id=user_id).update(last_seen_at=timezone.now())
    return None if _has_live_connection(user_id=user_id) else user_id


@transaction.atomic
def settle_offline(*, user_id: int) -> PresenceChange | None:
    """The grace after a user's last socket closed is over: offline, unless one opened since."""
    _lock_presence(user_id=user_id)
    if _has_live_connection(user_id=user_id):
        return None
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return None
    return _set_status(user=user, status=PresenceStatus.OFFLINE, only_from=None)


def _has_live_connection(*, user_id: int) -> bool:
    cutoff = timezone.now() - presence_timeout()
    return PresenceConnection.objects.filter(
        user_id=user_id, last_heartbeat_at__gte=cutoff
    ).exists()


def list_excess_connections(*, user: User, keep: int) -> list[str]:
    """Channel names of the user's live sockets beyond the newest `keep`, oldest first."""
    cutoff = timezone.now() - presence_timeout()
    live = PresenceConnection.objects.filter(user=user, last_heartbeat_at__gte=cutoff)
    newest = live.order_by("-connected_at", "-pk").values_list("channel_name", flat=True)
    return list(reversed(newest[keep:]))


@transaction.atomic
def set_presence_status(*, user: User, status: str) -> PresenceChange | None:
    if status not in (PresenceStatus.ONLINE, PresenceStatus.AWAY, PresenceStatus.BUSY):
        raise ApplicationError("Status is online, away or busy.", code="invalid_status")
    return _set_status(user=user, status=status, only_from=None)


def heartbeat_connections(*, channel_names: list[str], now: datetime | None = None) -> int:
    """Keep this process's sockets alive."""
    if not channel_names:
        return 0
    return PresenceConnection.objects.filter(channel_name__in=channel_names).update(
        last_heartbeat_at=now or timezone.now()
    )


@transaction.atomic
def expire_stale_connections(*, now: datetime | None = None) -> list[PresenceChange]:
    """Drop sockets whose process stopped heartbeating; their users go offline if no socket
    is left. Any process may run this; the conditional update announces each change once."""
    cutoff = (now or timezone.now()) - presence_timeout()
    stale = PresenceConnection.objects.filter(last_heartbeat_at__lt=cutoff)
    user_ids = set(stale.values_list("user_id", flat=True))
    stale.delete()
    # Users marked present but with no socket row at all (e.g. a crash before any sweep ran).
    # Those still within their offline grace are left to the process that closed their socket.
    grace = timedelta(seconds=realtime_setting("PRESENCE_OFFLINE_GRACE_SECONDS"))
    orphaned = (
        StaffPresence.objects.exclude(status=PresenceStatus.OFFLINE)
        .exclude(user__presence_connections__isnull=False)
        .exclude(last_seen_at__gte=(now or timezone.now()) - grace)
        .values_list("user_id", flat=True)
    )
    user_ids.update(orphaned)
    changes = []
    for user in User.objects.filter(pk__in=user_ids).exclude(
        Q(presence_connections__last_heartbeat_at__gte=cutoff)
    ):
        change = _set_status(user=user, status=PresenceStatus.OFFLINE, only_from=None)
        if change is not None:
            changes.append(change)
    return changes


def _announce(*, name: str, actor: User | None, subject, properties: dict | None = None) -> None:
    """Publish the change for the analytics trail (it records it in this transaction)."""
    publish_on_commit(
        events.ChatActivity(
            name=name,
            actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
            subject_type=subject._meta.label_lower,
            subject_id=subject.pk,
            properties=properties or {},
        )
    )


# Privacy ---------------------------------------------------------------------------------------


@transaction.atomic
def redact_chat_mentions(*, needles: list[str]) -> int:
    """Erasure (docs/privacy.md): a customer's name, address or number quoted in team chat, a
    chat file's name or a notification is masked; the rest of the staff message stays. Returns
    rows changed."""
    changed = 0
    for model, fields in (
        (ChannelMessage, ["body", "body_html"]),
        (Notification, ["title", "body"]),
        (ChatAttachment, ["filename"]),
    ):
        for row in model.objects.filter(mentions_any(fields, needles)) if needles else []:
            for name in fields:
                setattr(row, name, mask_json(getattr(row, name), needles))
            row.save(update_fields=fields)
            changed += 1
    return changed


@transaction.atomic
def erase_shared_ticket_files(*, ticket_ids: list[int]) -> int:
    """Erasure (docs/privacy.md): files of the erased customer's tickets shared to team chat go
    with them. The rows are removed and, after commit, the bytes no ticket file still points at
    (the chat's own thumbnail; the ticket file's bytes once tickets' erasure let go of them).
    Returns rows removed."""
    shared = ChatAttachment.objects.filter(source_attachment__ticket_id__in=ticket_ids)
    keys = {key for pair in shared.values_list("storage_key", "preview_key") for key in pair if key}
    removed, _ = shared.delete()
    still_used = Attachment.objects.filter(
        Q(storage_key__in=keys) | Q(preview_key__in=keys)
    ).values_list("storage_key", "preview_key")
    keys -= {key for pair in still_used for key in pair}
    for key in sorted(keys):
        transaction.on_commit(partial(default_storage.delete, key), robust=True)
    return removed
