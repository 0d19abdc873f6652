"""HTML pages of the analytics app (mounted at the site root; paths are spelled out in full)."""

from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("analytics/", views.dashboard, name="dashboard"),
    path("csat/<str:token>/", views.csat_survey, name="csat"),
]
