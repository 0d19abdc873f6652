"""REST API of the accounts app: who am I, and JWT obtain/refresh."""

from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.serializers import TokenObtainSerializer
from rest_framework_simplejwt.views import TokenObtainPairView

from accounts import selectors, services, token_families, two_factor
from accounts.audit import record_login
from accounts.models import ApiToken
from accounts.permissions import Action, ActionPermission
from core.api_schema import ERROR
from core.errors import ApplicationError


def auth_method(request: Request) -> str:
    if isinstance(request.auth, ApiToken):
        return "api_token"
    if request.auth is not None:
        return "jwt"
    return "session"


class MeApi(APIView):
    @extend_schema_serializer(component_name="Me")
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


JWT_PAIR = inline_serializer(
    "JwtPair", fields={"access": serializers.CharField(), "refresh": serializers.CharField()}
)


class JwtObtainSerializer(TokenObtainSerializer):
    """username + password, and `otp` (a TOTP or recovery code) for accounts with 2FA; a pair
    starts a new sign-in (a refresh-token family, accounts/token_families.py)."""

    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="The current two-factor code; required when the account uses 2FA.",
    )

    def validate(self, attrs):
        super().validate(attrs)
        method = two_factor.check_second_factor_for_token(user=self.user, code=attrs.get("otp", ""))
        record_login(
            request=None,
            user=self.user,
            succeeded=True,
            method="jwt",
            two_factor_method=method,
        )
        pair = token_families.issue_token_pair(user=self.user)
        return {"access": pair.access, "refresh": pair.refresh}


class JwtObtainApi(_NormalizedTokenErrors, TokenObtainPairView):
    serializer_class = JwtObtainSerializer

    @extend_schema(
        operation_id="auth_token_obtain",
        tags=["auth"],
        summary="Exchange username, password (and 2FA code) for a JWT access + refresh pair",
        request=JwtObtainSerializer,
        responses={
            200: JWT_PAIR,
            400: OpenApiResponse(ERROR, description="Malformed body, or a field missing or blank."),
            401: OpenApiResponse(
                ERROR,
                description="Wrong credentials or inactive account (`no_active_account`), "
                "2FA code missing (`otp_required`) or wrong (`otp_invalid`).",
            ),
            403: OpenApiResponse(
                ERROR,
                description="The role requires 2FA and the account has none yet "
                "(`two_factor_enrolment_required`).",
            ),
            429: OpenApiResponse(ERROR, description="Too many failures: locked for a cool-off."),
        },
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except exceptions.AuthenticationFailed:
            # django-axes flags the request it refused; say so instead of "wrong password".
            if getattr(request, "axes_locked_out", False):
                raise ApplicationError(
                    "Too many failed sign-in attempts; try again later.",
                    code="locked_out",
                    status=429,
                ) from None
            raise


class JwtRefreshApi(APIView):
    """Refresh tokens rotate: the answer carries the new refresh token, the old one is spent."""

    authentication_classes = []
    permission_classes = []

    @extend_schema_serializer(component_name="JwtRefresh")
    class InputSerializer(serializers.Serializer):
        refresh = serializers.CharField()

    @extend_schema(
        operation_id="auth_token_refresh",
        tags=["auth"],
        summary="Exchange the newest refresh token for a new access + refresh pair",
        request=InputSerializer,
        responses={
            200: JWT_PAIR,
            400: OpenApiResponse(ERROR, description="Malformed body, or a field missing or blank."),
            401: OpenApiResponse(
                ERROR,
                description="Invalid or expired (`token_not_valid`), revoked (`token_revoked`, "
                "`user_inactive`), or an already used refresh token (`token_reused`: every token "
                "of that sign-in is revoked).",
            ),
            429: OpenApiResponse(ERROR, description="Too many requests from this address."),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = token_families.rotate_refresh_token(raw=serializer.validated_data["refresh"])
        return Response({"access": pair.access, "refresh": pair.refresh})


class ApiTokenOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)

    class Meta:
        ref_name = "ApiToken"


class ApiTokenListApi(APIView):
    """The caller's own API tokens (never the secret); POST creates one and shows it once."""

    permission_classes = [ActionPermission]
    required_action = Action.USE_API_TOKENS
    pagination_class = None

    @extend_schema_serializer(component_name="ApiTokenCreate")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        expires_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema_serializer(component_name="ApiTokenCreated")
    class CreatedSerializer(ApiTokenOutputSerializer):
        token = serializers.CharField(help_text="The raw token. Shown only in this response.")

    @extend_schema(
        operation_id="api_tokens_list",
        tags=["auth"],
        responses={200: ApiTokenOutputSerializer(many=True), 401: ERROR, 403: ERROR},
    )
    def get(self, request: Request) -> Response:
        tokens = selectors.list_api_tokens(owner=request.user)
        return Response(ApiTokenOutputSerializer(tokens, many=True).data)

    @extend_schema(
        operation_id="api_tokens_create",
        tags=["auth"],
        request=InputSerializer,
        responses={201: CreatedSerializer, 400: ERROR, 401: ERROR, 403: ERROR},
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, raw = services.create_api_token(
            actor=request.user, owner=request.user, **serializer.validated_data
        )
        data = {**ApiTokenOutputSerializer(token).data, "token": raw}
        return Response(self.CreatedSerializer(data).data, status=201)


class ApiTokenRevokeApi(APIView):
    permission_classes = [ActionPermission]
    required_action = Action.USE_API_TOKENS

    @extend_schema(
        operation_id="api_tokens_revoke",
        tags=["auth"],
        request=None,
        responses={200: ApiTokenOutputSerializer, 401: ERROR, 403: ERROR, 404: ERROR},
    )
    def post(self, request: Request, token_id: int) -> Response:
        token = selectors.get_api_token(owner=request.user, token_id=token_id)
        token = services.revoke_api_token(actor=request.user, token=token)
        return Response(ApiTokenOutputSerializer(token).data)
