"""HTML pages of the comms app (mounted at the site root; paths are spelled out in full)."""

from django.urls import path

from comms import api, views

app_name = "comms"

urlpatterns = [
    path("chat/", views.chat_home, name="home"),
    path("chat/new/", views.create_channel, name="create"),
    path("chat/dm/<int:user_id>/", views.open_direct, name="direct"),
    path("chat/files/<int:attachment_id>/", api.ChatFileDownloadApi.as_view(), name="file"),
    path(
        "chat/files/<int:attachment_id>/preview/",
        api.ChatFilePreviewApi.as_view(),
        name="file-preview",
    ),
    path(
        "chat/handoffs/<int:handoff_id>/take/",
        views.take_channel_handoff,
        name="handoff-take",
    ),
    path("chat/<slug:slug>/", views.channel_page, name="channel"),
    path("chat/<slug:slug>/post/", views.post_message, name="post"),
    path("chat/<slug:slug>/messages/<int:message_id>/edit/", views.edit_message, name="edit"),
    path("chat/<slug:slug>/messages/<int:message_id>/delete/", views.delete_message, name="delete"),
    path("chat/<slug:slug>/join/", views.join_channel, name="join"),
    path("chat/<slug:slug>/leave/", views.leave_channel, name="leave"),
    path("chat/<slug:slug>/archive/", views.archive_channel, name="archive"),
    path("chat/<slug:slug>/members/", views.channel_members, name="members"),
    path(
        "tickets/<str:reference>/discussions/",
        views.ticket_discussions,
        name="ticket-discussions",
    ),
    path(
        "tickets/<str:reference>/discussions/start/",
        views.ticket_discussion_start,
        name="ticket-discussion-start",
    ),
    path(
        "tickets/<str:reference>/handoff-to-channel/",
        views.ticket_handoff_to_channel,
        name="ticket-handoff-to-channel",
    ),
    path(
        "tickets/<str:reference>/files/<int:attachment_id>/share/",
        views.ticket_file_share,
        name="ticket-file-share",
    ),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/bell/", views.notification_bell, name="bell"),
    path("notifications/read-all/", views.notification_read_all, name="notifications_read_all"),
    path(
        "notifications/<int:notification_id>/read/",
        views.notification_read,
        name="notification_read",
    ),
]
