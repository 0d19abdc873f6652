from django.conf import settings
from django.db import models
from django.db.models import Q


class ChannelKind(models.TextChoices):
    PUBLIC = "public", "Public"
    PRIVATE = "private", "Private"
    DIRECT = "direct", "Direct message"


class Channel(models.Model):
    """A team chat room. Direct messages are two-member channels of kind `direct`."""

    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices, default=ChannelKind.PUBLIC)
    topic = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("manage_channels", "Can create and archive channels and manage members"),
            ("post_channel", "Can post in team chat"),
        ]

    def __str__(self) -> str:
        return f"#{self.slug}"


class ChannelMember(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel_memberships"
    )
    joined_at = models.DateTimeField(auto_now_add=True)
    last_read_at = models.DateTimeField(null=True, blank=True)
    is_muted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "user"], name="member_unique_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.channel_id}"


class ChannelMessage(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="channel_messages"
    )
    thread = models.ForeignKey(
        "comms.Thread", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    # Blank only when the message carries files (comms.services checks it).
    body = models.TextField(blank=True)
    body_html = models.TextField(blank=True, help_text="Rendered, sanitized markup.")
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["channel", "thread", "created_at"], name="chatmsg_channel_thread"),
        ]

    def __str__(self) -> str:
        return f"Message {self.pk} in {self.channel_id}"


class ChatAttachment(models.Model):
    """A file posted with a chat message (artwork, proofs): stored like ticket files (random key
    in the default storage, type sniffed from the bytes), served only to who may read the
    channel. Its own table because tickets.Attachment belongs to a ticket (docs/decisions.md)."""

    message = models.ForeignKey(
        ChannelMessage, on_delete=models.CASCADE, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127)
    declared_type = models.CharField(max_length=127, blank=True)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=500)
    preview_key = models.CharField(max_length=500, blank=True)
    # A ticket's file shared to the channel ("Share to #channel"): the bytes (and the thumbnail,
    # when the ticket file had one) are the ticket file's, never copied; the message links the
    # ticket. An erasure of the ticket's customer removes this row too (docs/decisions.md).
    source_attachment = models.ForeignKey(
        "tickets.Attachment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_shares",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.filename} on message {self.message_id}"


class Thread(models.Model):
    """Replies hanging off one root message."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="threads")
    root_message = models.OneToOneField(
        ChannelMessage, on_delete=models.CASCADE, related_name="thread_root"
    )
    reply_count = models.PositiveIntegerField(default=0)
    last_reply_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Thread on message {self.root_message_id}"


class Mention(models.Model):
    message = models.ForeignKey(ChannelMessage, on_delete=models.CASCADE, related_name="mentions")
    mentioned_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions"
    )
    is_channel_mention = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["message", "mentioned_user"], name="mention_unique_per_message"
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.mentioned_user_id} in {self.message_id}"


class NotificationKind(models.TextChoices):
    MENTION = "mention", "Mention"
    ASSIGNMENT = "assignment", "Ticket assigned"
    HANDOFF = "handoff", "Handoff request"
    ESCALATION = "escalation", "Escalation"
    CSAT = "csat", "Customer satisfaction"
    SYSTEM = "system", "System"


class EmailDigest(models.Model):
    """One email collecting the notifications that reached someone while they were offline.

    Open while `closed_at` is empty: notifications join it until its task runs at `due_at`, which
    closes it (later ones open the next digest) and sends it (comms/digests.py). At most one is
    open per person, so concurrent notifications cannot start two emails for one window.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Why the last attempt did not send (a provider error); empty once sent.
    error = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient"],
                condition=Q(closed_at__isnull=True),
                name="email_digest_one_open_per_recipient",
            )
        ]

    def __str__(self) -> str:
        return f"Email digest {self.pk} for {self.recipient_id}"


# What reaches someone by email when they are offline (their `notification_emails` setting).
EMAILED_KINDS = frozenset(
    {NotificationKind.MENTION, NotificationKind.ASSIGNMENT, NotificationKind.HANDOFF}
)


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set when the recipient was offline and gets notification emails: it goes out in this one.
    email_digest = models.ForeignKey(
        EmailDigest,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"


class PresenceStatus(models.TextChoices):
    ONLINE = "online", "Online"
    AWAY = "away", "Away"
    BUSY = "busy", "Busy"
    OFFLINE = "offline", "Offline"


class StaffPresence(models.Model):
    """A staff member's last known presence, kept for lists and last-seen times."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presence"
    )
    status = models.CharField(
        max_length=10, choices=PresenceStatus.choices, default=PresenceStatus.OFFLINE
    )
    last_seen_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "staff presence"

    def __str__(self) -> str:
        return f"{self.user_id}: {self.status}"


class PresenceConnection(models.Model):
    """One open staff socket, kept alive by heartbeats from the process that holds it.

    A process that dies stops heartbeating; any other process sweeps its rows once they are older
    than the presence timeout and marks users without a live socket offline.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="presence_connections"
    )
    channel_name = models.CharField(max_length=200, unique=True)
    connected_at = models.DateTimeField(auto_now_add=True)
    last_heartbeat_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["last_heartbeat_at"], name="presence_conn_heartbeat")]

    def __str__(self) -> str:
        return f"{self.user_id} via {self.channel_name}"


class TicketViewer(models.Model):
    """A staff socket that has a ticket page open (collision detection).

    A row counts only while its socket has a live `PresenceConnection` (heartbeated and swept
    by the consumer), so a process that dies leaves no phantom viewers.
    """

    reference = models.CharField(max_length=20, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel_name", "reference"], name="comms_ticket_viewer_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} views {self.reference}"


class TicketDiscussion(models.Model):
    """A chat thread about a ticket ("Discuss in #channel" on the ticket page).

    Its root message shows a card of the ticket, read fresh on every render (so it follows the
    ticket's status and assignee), and its replies show in the ticket's "Team discussion" panel.
    The link is comms' own row: tickets knows nothing of chat.
    """

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="chat_discussions"
    )
    root_message = models.OneToOneField(
        ChannelMessage, on_delete=models.CASCADE, related_name="ticket_discussion"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A handoff offered to the channel ("Hand off to #channel"): the card carries "I'll take it"
    # until someone takes the ticket. The handoff itself is tickets' open handoff.
    handoff = models.OneToOneField(
        "tickets.AgentHandoff",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_discussion",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticket_discussion_ticket")]

    def __str__(self) -> str:
        return f"Discussion of {self.ticket_id} on message {self.root_message_id}"
