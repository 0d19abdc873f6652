from django.contrib import admin

from comms.models import (
    Channel,
    ChannelMember,
    ChannelMessage,
    EmailDigest,
    Mention,
    Notification,
    PresenceConnection,
    StaffPresence,
    Thread,
    TicketDiscussion,
)


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "is_archived", "created_at")
    list_filter = ("kind", "is_archived")
    search_fields = ("name", "slug")
    raw_id_fields = ("created_by",)


@admin.register(ChannelMember)
class ChannelMemberAdmin(admin.ModelAdmin):
    list_display = ("channel", "user", "joined_at", "last_read_at")
    list_filter = ("channel",)
    search_fields = ("channel__slug", "user__username")
    raw_id_fields = ("user",)
    list_select_related = ("channel", "user")


@admin.register(ChannelMessage)
class ChannelMessageAdmin(admin.ModelAdmin):
    list_display = ("channel", "author", "created_at", "edited_at", "deleted_at")
    list_filter = ("channel",)
    search_fields = ("body", "author__username")
    raw_id_fields = ("author", "thread")
    list_select_related = ("channel", "author")


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ("root_message", "channel", "reply_count", "last_reply_at")
    raw_id_fields = ("root_message",)
    list_select_related = ("channel", "root_message")


@admin.register(Mention)
class MentionAdmin(admin.ModelAdmin):
    list_display = ("message", "mentioned_user", "is_channel_mention", "created_at")
    raw_id_fields = ("message", "mentioned_user")
    list_select_related = ("mentioned_user",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "kind", "title", "created_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("title", "recipient__username")
    raw_id_fields = ("recipient", "actor", "email_digest")
    list_select_related = ("recipient",)


@admin.register(EmailDigest)
class EmailDigestAdmin(admin.ModelAdmin):
    """Read-only: the notification emails sent (or not) and why a send failed."""

    list_display = ("recipient", "created_at", "due_at", "closed_at", "sent_at", "error")
    search_fields = ("recipient__username",)
    raw_id_fields = ("recipient",)
    list_select_related = ("recipient",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StaffPresence)
class StaffPresenceAdmin(admin.ModelAdmin):
    list_display = ("user", "status", "last_seen_at")
    list_filter = ("status",)
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
    list_select_related = ("user",)


@admin.register(PresenceConnection)
class PresenceConnectionAdmin(admin.ModelAdmin):
    list_display = ("user", "channel_name", "connected_at", "last_heartbeat_at")
    search_fields = ("user__username", "channel_name")
    raw_id_fields = ("user",)
    list_select_related = ("user",)


@admin.register(TicketDiscussion)
class TicketDiscussionAdmin(admin.ModelAdmin):
    list_display = ("ticket", "root_message", "started_by", "created_at")
    search_fields = ("ticket__reference",)
    raw_id_fields = ("ticket", "root_message", "started_by")
    list_select_related = ("ticket", "root_message__channel", "started_by")
