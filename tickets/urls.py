"""HTML pages of the tickets app (mounted at the site root; paths are spelled out in full)."""

from django.urls import path

from tickets import attachment_views, views

app_name = "tickets"

urlpatterns = [
    path(
        "attachments/<int:attachment_id>/",
        attachment_views.AttachmentDownloadApi.as_view(),
        name="attachment",
    ),
    path(
        "attachments/<int:attachment_id>/preview/",
        attachment_views.AttachmentPreviewApi.as_view(),
        name="attachment-preview",
    ),
    path(
        "attachments/<int:attachment_id>/retry/",
        attachment_views.attachment_retry,
        name="attachment-retry",
    ),
    path("files/public/<str:token>/", attachment_views.public_attachment, name="public-file"),
    path("tickets/", views.inbox, name="inbox"),
    path("tickets/bulk/", views.inbox_bulk, name="bulk"),
    path("tickets/new/", views.ticket_new, name="new"),
    path("tickets/views/", views.saved_view_create, name="saved_view_create"),
    path("tickets/views/counts/", views.saved_view_counts, name="saved_view_counts"),
    path(
        "tickets/views/<int:saved_view_id>/delete/",
        views.saved_view_delete,
        name="saved_view_delete",
    ),
    path("tickets/<str:reference>/", views.ticket_detail, name="detail"),
    path("tickets/<str:reference>/timeline/", views.ticket_timeline, name="timeline"),
    path("tickets/<str:reference>/row/", views.ticket_row, name="row"),
    path("tickets/<str:reference>/reply/", views.ticket_reply, name="reply"),
    path(
        "tickets/<str:reference>/scheduled/<int:scheduled_reply_id>/edit/",
        views.scheduled_reply_edit,
        name="scheduled_edit",
    ),
    path(
        "tickets/<str:reference>/scheduled/<int:scheduled_reply_id>/cancel/",
        views.scheduled_reply_cancel,
        name="scheduled_cancel",
    ),
    path(
        "tickets/<str:reference>/scheduled/<int:scheduled_reply_id>/send-now/",
        views.scheduled_reply_send_now,
        name="scheduled_send_now",
    ),
    path("tickets/<str:reference>/notes/", views.ticket_note, name="note"),
    path("tickets/<str:reference>/status/", views.ticket_status, name="status"),
    path("tickets/<str:reference>/priority/", views.ticket_priority, name="priority"),
    path("tickets/<str:reference>/tags/", views.ticket_tags, name="tags"),
    path("tickets/<str:reference>/fields/", views.ticket_fields, name="fields"),
    path("tickets/<str:reference>/macro/", views.ticket_macro, name="macro"),
    path("tickets/<str:reference>/snooze/", views.ticket_snooze, name="snooze"),
    path("tickets/<str:reference>/unsnooze/", views.ticket_unsnooze, name="unsnooze"),
    path("tickets/<str:reference>/assign/", views.ticket_assign, name="assign"),
    path("tickets/<str:reference>/escalate/", views.ticket_escalate, name="escalate"),
    path("tickets/<str:reference>/handoffs/", views.ticket_handoff, name="handoff"),
    path("tickets/<str:reference>/merge/", views.ticket_merge, name="merge"),
    path(
        "tickets/<str:reference>/handoffs/<int:handoff_id>/accept/",
        views.handoff_answer,
        {"answer": "accept"},
        name="handoff_accept",
    ),
    path(
        "tickets/<str:reference>/handoffs/<int:handoff_id>/decline/",
        views.handoff_answer,
        {"answer": "decline"},
        name="handoff_decline",
    ),
    path(
        "tickets/<str:reference>/saved-replies/<int:saved_reply_id>/",
        views.saved_reply_render,
        name="saved_reply",
    ),
    path("saved-replies/", views.saved_reply_list, name="saved_replies"),
    path("saved-replies/<int:saved_reply_id>/", views.saved_reply_edit, name="saved_reply_edit"),
    path("customers/", views.customer_list, name="customers"),
    path("customers/<int:customer_id>/", views.customer_detail, name="customer"),
    path("customers/<int:customer_id>/merge/", views.customer_merge, name="customer_merge"),
    path("customers/<int:customer_id>/fields/", views.customer_fields, name="customer_fields"),
]
