"""Print-shop REST API (mounted under /api/)."""

from django.urls import path

from printshop.api import OrderTicketsApi, TicketProofsApi

urlpatterns = [
    path("orders/<str:number>/tickets/", OrderTicketsApi.as_view(), name="order-tickets"),
    path("tickets/<str:reference>/proofs/", TicketProofsApi.as_view(), name="ticket-proofs"),
]
