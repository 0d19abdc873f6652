"""REST API of the tickets app (mounted under /api/)."""

from django.urls import path

from tickets import api, scheduled_api

TICKET = "tickets/<str:reference>/"

urlpatterns = [
    path("tickets/", api.TicketListApi.as_view(), name="api-tickets"),
    path("tickets/bulk/", api.TicketBulkApi.as_view(), name="api-tickets-bulk"),
    path(TICKET, api.TicketDetailApi.as_view(), name="api-ticket"),
    path(f"{TICKET}messages/", api.TicketMessagesApi.as_view(), name="api-ticket-messages"),
    path(
        f"{TICKET}scheduled-replies/",
        scheduled_api.ScheduledRepliesApi.as_view(),
        name="api-ticket-scheduled-replies",
    ),
    path(
        f"{TICKET}scheduled-replies/<int:scheduled_reply_id>/",
        scheduled_api.ScheduledReplyDetailApi.as_view(),
        name="api-ticket-scheduled-reply",
    ),
    path(
        f"{TICKET}scheduled-replies/<int:scheduled_reply_id>/send-now/",
        scheduled_api.ScheduledReplySendNowApi.as_view(),
        name="api-ticket-scheduled-reply-send-now",
    ),
    path(f"{TICKET}events/", api.TicketEventsApi.as_view(), name="api-ticket-events"),
    path(f"{TICKET}notes/", api.TicketNotesApi.as_view(), name="api-ticket-notes"),
    path(f"{TICKET}assign/", api.TicketAssignApi.as_view(), name="api-ticket-assign"),
    path(f"{TICKET}escalate/", api.TicketEscalateApi.as_view(), name="api-ticket-escalate"),
    path(f"{TICKET}merge/", api.TicketMergeApi.as_view(), name="api-ticket-merge"),
    path(f"{TICKET}handoffs/", api.TicketHandoffsApi.as_view(), name="api-ticket-handoffs"),
    path(
        f"{TICKET}handoffs/<int:handoff_id>/accept/",
        api.HandoffAcceptApi.as_view(),
        name="api-handoff-accept",
    ),
    path(
        f"{TICKET}handoffs/<int:handoff_id>/decline/",
        api.HandoffDeclineApi.as_view(),
        name="api-handoff-decline",
    ),
    path("customers/", api.CustomerListApi.as_view(), name="api-customers"),
    path("customers/<int:customer_id>/", api.CustomerDetailApi.as_view(), name="api-customer"),
    path(
        "customers/<int:customer_id>/merge/",
        api.CustomerMergeApi.as_view(),
        name="api-customer-merge",
    ),
    path("saved-replies/", api.SavedReplyListApi.as_view(), name="api-saved-replies"),
    path(
        "saved-replies/<int:saved_reply_id>/",
        api.SavedReplyDetailApi.as_view(),
        name="api-saved-reply",
    ),
    path(
        "saved-replies/<int:saved_reply_id>/render/",
        api.SavedReplyRenderApi.as_view(),
        name="api-saved-reply-render",
    ),
]
