"""`Authorization: Bearer <token>` for the API: personal API tokens and simplejwt access tokens.

Every failure is a 401 rendered as {"detail", "code"} by helpdesk.api.exception_handler.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from accounts.models import User
from accounts.selectors import get_api_token_for_key
from accounts.services import touch_api_token
from accounts.token_families import TokenRevoked, get_user_for_access_token
from accounts.tokens import looks_like_api_token


class BearerAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, object] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Malformed Authorization header: expected 'Bearer <token>'."),
                code="token_malformed",
            )
        try:
            raw = header[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(
                _("Malformed token."), code="token_malformed"
            ) from exc
        if looks_like_api_token(raw):
            return self._authenticate_api_token(raw)
        return self._authenticate_jwt(raw)

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'

    def _authenticate_api_token(self, raw: str) -> tuple[User, object]:
        token = get_api_token_for_key(raw=raw)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."), code="token_invalid")
        if token.is_revoked:
            raise exceptions.AuthenticationFailed(
                _("This token has been revoked."), code="token_revoked"
            )
        if token.is_expired(timezone.now()):
            raise exceptions.AuthenticationFailed(
                _("This token has expired."), code="token_expired"
            )
        if not token.owner.is_active:
            raise exceptions.AuthenticationFailed(
                _("The token's owner is deactivated."), code="user_inactive"
            )
        touch_api_token(token=token)
        return token.owner, token

    def _authenticate_jwt(self, raw: str) -> tuple[User, object]:
        jwt = JWTAuthentication()
        try:
            validated = jwt.get_validated_token(raw.encode())
        except (InvalidToken, TokenError) as exc:
            raise exceptions.AuthenticationFailed(
                _("Token is invalid or expired."), code="token_not_valid"
            ) from exc
        try:
            user = get_user_for_access_token(token=validated)
        except TokenRevoked as exc:
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code) from exc
        return user, validated


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BearerAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (pd_…) or a JWT access token.",
        }
