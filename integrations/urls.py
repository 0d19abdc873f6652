"""HTML pages of the integrations app (mounted at the site root; paths are spelled out in full)."""

from django.urls import path

from integrations import order_action_views, outbound_views, views
from integrations.webchat import views as webchat

app_name = "integrations"

urlpatterns: list = [
    path("widget.js", webchat.widget_script, name="widget-script"),
    path("widget/<slug:key>/config/", webchat.widget_config, name="widget-config"),
    path("widget/<slug:key>/session/", webchat.widget_session, name="widget-session"),
    path("widget/<slug:key>/messages/", webchat.widget_messages, name="widget-messages"),
    path("widget/<slug:key>/receipts/", webchat.widget_receipt, name="widget-receipt"),
    path("widget/<slug:key>/surveys/", webchat.widget_surveys, name="widget-surveys"),
    path(
        "widget/<slug:key>/surveys/<int:survey_id>/answer/",
        webchat.widget_survey_answer,
        name="widget-survey-answer",
    ),
    path("media-proxy/<str:token>/", views.media_proxy, name="media-proxy"),
    path("tickets/<str:reference>/webchat/", webchat.ticket_context, name="webchat-context"),
    path(
        "tickets/<str:reference>/messages/<int:message_id>/retry/",
        outbound_views.retry_message,
        name="retry-message",
    ),
    path(
        "tickets/<str:reference>/whatsapp-template/",
        outbound_views.send_whatsapp_template,
        name="send-template",
    ),
    path(
        "customers/<int:customer_id>/context/",
        views.customer_context,
        name="customer-context",
    ),
    path(
        "customers/<int:customer_id>/context/refresh/",
        views.customer_context_refresh,
        name="customer-context-refresh",
    ),
    path(
        "customers/<int:customer_id>/context/order/",
        views.customer_order,
        name="customer-order",
    ),
    path(
        "customers/<int:customer_id>/context/link/",
        views.customer_link,
        name="customer-link",
    ),
    path(
        "tickets/<str:reference>/orders/<str:number>/actions/",
        order_action_views.order_panel,
        name="order-actions",
    ),
    path(
        "tickets/<str:reference>/orders/<str:number>/actions/<str:kind>/",
        order_action_views.order_action,
        name="order-action",
    ),
    path(
        "tickets/<str:reference>/discount-code/",
        order_action_views.discount_code,
        name="discount-code",
    ),
]
