"""REST API of the accounts app (mounted under /api/)."""

from django.urls import path

from accounts import api

urlpatterns = [
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("auth/token/", api.JwtObtainApi.as_view(), name="api-token-obtain"),
    path("auth/token/refresh/", api.JwtRefreshApi.as_view(), name="api-token-refresh"),
    path("tokens/", api.ApiTokenListApi.as_view(), name="api-tokens"),
    path("tokens/<int:token_id>/revoke/", api.ApiTokenRevokeApi.as_view(), name="api-token-revoke"),
]
