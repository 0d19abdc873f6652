"""REST API of the integrations app (mounted under /api/)."""

from django.urls import path

from integrations.commerce_api import CustomerContextApi
from integrations.meta import views as meta
from integrations.sendgrid import views as sendgrid
from integrations.shopify import views as shopify
from integrations.twilio import views as twilio

urlpatterns: list = [
    path("webhooks/twilio", twilio.inbound_message, name="webhook-twilio"),
    path("webhooks/twilio/status", twilio.status_callback, name="webhook-twilio-status"),
    path("webhooks/sendgrid", sendgrid.inbound_parse, name="webhook-sendgrid"),
    path("webhooks/sendgrid/events", sendgrid.event_webhook, name="webhook-sendgrid-events"),
    path("webhooks/meta", meta.webhook, name="webhook-meta"),
    path("webhooks/shopify", shopify.webhook, name="webhook-shopify"),
    path(
        "customers/<int:customer_id>/context/",
        CustomerContextApi.as_view(),
        name="customer-context-api",
    ),
]
