"""The real URLs plus the ceiling views the benchmarks compare against (bench servers only)."""

from django.urls import path

from bench import views
from helpdesk.urls import urlpatterns as real_urlpatterns

urlpatterns = [
    path("bench/ceiling/twilio", views.ceiling_twilio, name="bench-ceiling-twilio"),
    *real_urlpatterns,
]
