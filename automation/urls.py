from django.urls import path

from automation import views

app_name = "automation"

urlpatterns = [
    path("tickets/<str:reference>/sla/", views.ticket_sla_panel, name="ticket-sla"),
]
