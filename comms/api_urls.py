"""REST API of the comms app (mounted under /api/)."""

from django.urls import path

from comms import api

urlpatterns = [
    path("channels/", api.ChannelListApi.as_view(), name="channels-list"),
    path("channels/create/", api.ChannelCreateApi.as_view(), name="channels-create"),
    path("channels/<slug:slug>/join/", api.ChannelJoinApi.as_view(), name="channels-join"),
    path("channels/<slug:slug>/read/", api.ChannelReadApi.as_view(), name="channels-read"),
    path(
        "channels/<slug:slug>/messages/",
        api.ChannelMessagesApi.as_view(),
        name="channel-messages",
    ),
    path(
        "channels/<slug:slug>/messages/<int:message_id>/",
        api.ChannelMessageApi.as_view(),
        name="channel-message",
    ),
    path(
        "channels/<slug:slug>/messages/<int:message_id>/thread/",
        api.ThreadApi.as_view(),
        name="channel-thread",
    ),
    path(
        "tickets/<str:reference>/discussions/",
        api.TicketDiscussionsApi.as_view(),
        name="ticket-discussions",
    ),
    path("notifications/", api.NotificationListApi.as_view(), name="notifications-list"),
    path(
        "notifications/read-all/",
        api.NotificationReadAllApi.as_view(),
        name="notifications-read-all",
    ),
    path(
        "notifications/<int:notification_id>/read/",
        api.NotificationReadApi.as_view(),
        name="notifications-read",
    ),
]
