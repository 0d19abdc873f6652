"""Print-shop pages (mounted at the site root; paths are spelled out in full)."""

from django.urls import path

from printshop import views, widget_views

app_name = "printshop"

urlpatterns = [
    path("proofs/<str:token>/", views.public_proof, name="public-proof"),
    path("proofs/<str:token>/file/", views.public_proof_file, name="public-proof-file"),
    path("proofs/<str:token>/preview/", views.public_proof_preview, name="public-proof-preview"),
    path("widget/<slug:key>/proofs/", widget_views.widget_proofs, name="widget-proofs"),
    path(
        "widget/<slug:key>/proofs/<int:proof_id>/decision/",
        widget_views.widget_proof_decision,
        name="widget-proof-decision",
    ),
    path("tickets/<str:reference>/proofs/", views.ticket_panel, name="ticket-panel"),
    path("tickets/<str:reference>/proofs/upload/", views.proof_upload, name="proof-upload"),
    path("tickets/<str:reference>/proofs/perp/", views.proof_from_perp, name="proof-perp"),
    path(
        "tickets/<str:reference>/proofs/from-file/<int:attachment_id>/",
        views.proof_from_attachment,
        name="proof-from-attachment",
    ),
    path(
        "tickets/<str:reference>/proofs/<int:proof_id>/send/",
        views.proof_send,
        name="proof-send",
    ),
    path(
        "tickets/<str:reference>/proofs/<int:proof_id>/discard/",
        views.proof_discard,
        name="proof-discard",
    ),
    path(
        "tickets/<str:reference>/proofs/<int:proof_id>/perp-retry/",
        views.proof_retry_perp,
        name="proof-perp-retry",
    ),
    path(
        "tickets/<str:reference>/proofs/<int:proof_id>/file/",
        views.proof_file,
        name="proof-file",
    ),
    path("tickets/<str:reference>/orders/", views.order_link, name="order-link"),
]
