from django.urls import path

from automation import api

urlpatterns = [
    path("tickets/<str:reference>/sla/", api.TicketSlaApi.as_view(), name="api-ticket-sla"),
]
