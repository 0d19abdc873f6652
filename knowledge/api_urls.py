"""REST API of the knowledge app (mounted under /api/)."""

from django.urls import path

from knowledge.api import ProductSearchApi

urlpatterns = [
    path("knowledge/search/", ProductSearchApi.as_view(), name="knowledge-search"),
]
