from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from helpdesk import views

API_APPS = [
    "accounts",
    "tickets",
    "comms",
    "integrations",
    "knowledge",
    "analytics",
    "printshop",
    "automation",
]
# Each app's urls.py is mounted at the root and writes full paths (accounts/login/, staff/).
PAGE_APPS = [
    "accounts",
    "tickets",
    "comms",
    "integrations",
    "knowledge",
    "analytics",
    "printshop",
    "automation",
    "privacy",
]

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's init script from a URL: no inline script, so the page
    # runs under the site's CSP (templates/drf_spectacular/swagger_ui.html).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    *(path("api/", include(f"{app}.api_urls")) for app in API_APPS),
    # Last under api/: what no API route matched (e.g. a path parameter its converter refuses).
    re_path(r"^api/", views.api_not_found, name="api-not-found"),
    *(path("", include(f"{app}.urls")) for app in PAGE_APPS),
]
