"""JWT sign-ins as refresh-token families (docs/security.md, "API tokens and JWT").

Obtaining a pair starts a family. Each refresh rotates: the presented refresh token must be the
family's newest, and the answer is a new access token and a new refresh token. An older refresh
token presented again is a reuse (a copy exists somewhere): the whole family is revoked, so the
thief's copy and the client's current token both stop working (OAuth 2.0 Security BCP §4.14.2).

Every family of a user is revoked on "sign out everywhere", deactivation, a 2FA reset and the
removal of a role; a password change (by any path) ends them through `password_fingerprint`.
Access tokens carry the family id (`fam`) and are refused once the family is revoked, so
revocation also ends the current access token instead of waiting for it to expire.
"""

import uuid
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token

from accounts.audit import record_audit
from accounts.models import TokenFamily, User
from core.errors import ApplicationError

FAMILY_CLAIM = "fam"


class TokenRevoked(ApplicationError):
    """A JWT that is well signed but no longer honoured; always a 401."""

    status = 401
    default_code = "token_revoked"


class RevokedReason:
    REUSE = "reuse"
    PASSWORD_CHANGED = "password_changed"
    SIGNED_OUT = "signed_out"
    DEACTIVATED = "deactivated"
    TWO_FACTOR_RESET = "two_factor_reset"
    ROLE_REMOVED = "role_removed"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


class Refusal(NamedTuple):
    error: TokenRevoked
    revoke_reason: str | None


def _invalid() -> TokenRevoked:
    return TokenRevoked("Token is invalid or expired.", code="token_not_valid")


def _password_fingerprint(user: User) -> str:
    return user.get_session_auth_hash()


def _pair(*, user: User, family: TokenFamily, now) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    refresh[FAMILY_CLAIM] = str(family.pk)
    # A rotated refresh token never outlives its family.
    lifetime_end = min(now + settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"], family.expires_at)
    refresh.set_exp(from_time=now, lifetime=lifetime_end - now)
    family.current_jti = refresh[api_settings.JTI_CLAIM]
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


@transaction.atomic
def issue_token_pair(*, user: User) -> TokenPair:
    """A new sign-in for `user` (already authenticated, second factor included)."""
    now = timezone.now()
    family = TokenFamily(
        user=user,
        password_fingerprint=_password_fingerprint(user),
        expires_at=now + settings.JWT_FAMILY_LIFETIME,
    )
    pair = _pair(user=user, family=family, now=now)
    family.save()
    return pair


def _revoke(family: TokenFamily, *, reason: str, now) -> None:
    family.revoked_at = now
    family.revoked_reason = reason
    family.save(update_fields=["revoked_at", "revoked_reason"])


def _refusal(family: TokenFamily, token: Token, *, now) -> Refusal | None:
    """Why `token` (of `family`) is refused and the revocation that earns, or None."""
    user = family.user
    if str(family.user_id) != str(token.get(api_settings.USER_ID_CLAIM)):
        return Refusal(_invalid(), None)
    if family.revoked_at is not None:
        return Refusal(TokenRevoked("This sign-in has been revoked; sign in again."), None)
    if family.expires_at <= now:
        return Refusal(_invalid(), None)
    if not user.is_active:
        error = TokenRevoked("The token's owner is deactivated.", code="user_inactive")
        return Refusal(error, RevokedReason.DEACTIVATED)
    if not constant_time_compare(family.password_fingerprint, _password_fingerprint(user)):
        error = TokenRevoked("The password changed; sign in again.")
        return Refusal(error, RevokedReason.PASSWORD_CHANGED)
    if isinstance(token, RefreshToken) and not constant_time_compare(
        family.current_jti, str(token.get(api_settings.JTI_CLAIM))
    ):
        error = TokenRevoked(
            "This refresh token was already used; every token of this sign-in is revoked.",
            code="token_reused",
        )
        return Refusal(error, RevokedReason.REUSE)
    return None


def rotate_refresh_token(*, raw: str) -> TokenPair:
    """Exchange the family's newest refresh token for a new pair; a reused one revokes all."""
    try:
        token = RefreshToken(raw)
    except TokenError as exc:
        raise _invalid() from exc
    now = timezone.now()
    with transaction.atomic():
        # FOR UPDATE: two refreshes with the same token race; exactly one may rotate.
        family = (
            TokenFamily.objects.select_for_update()
            .select_related("user")
            .filter(pk=_family_id(token))
            .first()
        )
        if family is None:
            raise _invalid()
        refusal = _refusal(family, token, now=now)
        if refusal is None:
            pair = _pair(user=family.user, family=family, now=now)
            family.rotated_at = now
            family.save(update_fields=["current_jti", "rotated_at"])
        elif refusal.revoke_reason is not None:
            _revoke(family, reason=refusal.revoke_reason, now=now)
            if refusal.revoke_reason == RevokedReason.REUSE:
                record_audit(
                    action="jwt.refresh_reused",
                    target=family.user,
                    details={"family": str(family.pk)},
                )
    # Raised after the block: the revocation above is committed, not rolled back.
    if refusal is not None:
        raise refusal.error
    return pair


def _family_id(token: Token) -> str | None:
    value = token.get(FAMILY_CLAIM)
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def get_user_for_access_token(*, token: AccessToken) -> User:
    """The owner of a validated access token whose family is still honoured (one query)."""
    family_id = _family_id(token)
    family = (
        TokenFamily.objects.select_related("user").filter(pk=family_id).first()
        if family_id
        else None
    )
    if family is None:
        raise _invalid()
    refusal = _refusal(family, token, now=timezone.now())
    if refusal is not None:
        raise refusal.error
    return family.user


def revoke_token_families(*, user: User, reason: str) -> int:
    """End every JWT sign-in of `user` (their refresh and access tokens stop working)."""
    return TokenFamily.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )
