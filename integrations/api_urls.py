"""REST API of the integrations app (mounted under /api/)."""

from django.urls import path

from integrations import template_api
from integrations.commerce_api import CustomerContextApi
from integrations.meta import views as meta
from integrations.order_actions_api import (
    TicketDiscountCodeApi,
    TicketOrderAddressApi,
    TicketOrderCancelApi,
    TicketOrderRefundApi,
    TicketOrderReprintApi,
)
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
    path(
        "tickets/<str:reference>/orders/<str:number>/reprint/",
        TicketOrderReprintApi.as_view(),
        name="ticket-order-reprint",
    ),
    path(
        "tickets/<str:reference>/orders/<str:number>/refund/",
        TicketOrderRefundApi.as_view(),
        name="ticket-order-refund",
    ),
    path(
        "tickets/<str:reference>/orders/<str:number>/cancel/",
        TicketOrderCancelApi.as_view(),
        name="ticket-order-cancel",
    ),
    path(
        "tickets/<str:reference>/orders/<str:number>/shipping-address/",
        TicketOrderAddressApi.as_view(),
        name="ticket-order-address",
    ),
    path(
        "whatsapp-templates/",
        template_api.WhatsAppTemplateListApi.as_view(),
        name="whatsapp-templates",
    ),
    path(
        "tickets/<str:reference>/template-messages/",
        template_api.TicketTemplateMessageApi.as_view(),
        name="ticket-template-messages",
    ),
    path(
        "tickets/<str:reference>/discount-codes/",
        TicketDiscountCodeApi.as_view(),
        name="ticket-discount-codes",
    ),
]
