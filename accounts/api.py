"""REST API of the accounts app: who am I, and JWT obtain/refresh."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.serializers import (
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
)
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts import selectors
from accounts.models import ApiToken

ERROR = inline_serializer(
    "Error", fields={"detail": serializers.CharField(), "code": serializers.CharField()}
)


def auth_method(request: Request) -> str:
    if isinstance(request.auth, ApiToken):
        return "api_token"
    if request.auth is not None:
        return "jwt"
    return "session"


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        display_name = serializers.CharField()
        email = serializers.EmailField()
        roles = serializers.ListField(child=serializers.CharField())
        permissions = serializers.ListField(child=serializers.CharField())
        auth = serializers.ChoiceField(choices=["session", "api_token", "jwt"])

    @extend_schema(
        operation_id="me",
        tags=["auth"],
        summary="The caller, their roles and effective permissions",
        responses={200: OutputSerializer, 401: ERROR},
    )
    def get(self, request: Request) -> Response:
        user = request.user
        data = {
            "id": user.pk,
            "username": user.username,
            "display_name": str(user),
            "email": user.email,
            "roles": selectors.get_role_names(user=user),
            "permissions": selectors.get_effective_permissions(user=user),
            "auth": auth_method(request),
        }
        return Response(self.OutputSerializer(data).data)


class _NormalizedTokenErrors:
    """simplejwt answers a bad token with a nested detail; ours is the flat {"detail","code"}."""

    def post(self, request: Request, *args, **kwargs) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except InvalidToken as exc:
            raise exceptions.AuthenticationFailed(
                "Token is invalid or expired.", code="token_not_valid"
            ) from exc


class JwtObtainApi(_NormalizedTokenErrors, TokenObtainPairView):
    @extend_schema(
        operation_id="auth_token_obtain",
        tags=["auth"],
        summary="Exchange username and password for a JWT access + refresh pair",
        request=TokenObtainPairSerializer,
        responses={
            200: inline_serializer(
                "JwtPair",
                fields={"access": serializers.CharField(), "refresh": serializers.CharField()},
            ),
            401: OpenApiResponse(ERROR, description="Wrong credentials or inactive account."),
        },
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        return super().post(request, *args, **kwargs)


class JwtRefreshApi(_NormalizedTokenErrors, TokenRefreshView):
    @extend_schema(
        operation_id="auth_token_refresh",
        tags=["auth"],
        summary="Exchange a refresh token for a new access token",
        request=TokenRefreshSerializer,
        responses={
            200: inline_serializer("JwtAccess", fields={"access": serializers.CharField()}),
            401: OpenApiResponse(ERROR, description="Invalid or expired refresh token."),
        },
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        return super().post(request, *args, **kwargs)
