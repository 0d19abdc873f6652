"""Reads of the accounts app shared by views, the API and authentication."""

import hmac
from collections.abc import Callable, Iterable

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import Exists, Expression, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiToken, Role, User
from accounts.permissions import Action
from accounts.tokens import hash_token, split_token
from core.errors import NotFound

ROLE_ORDER = [Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER]
# Columns that apps above accounts add to the staff list (tickets: each member's open tickets),
# registered from their AppConfig.ready(): accounts cannot import them (.importlinter).
_staff_columns: dict[str, Callable[[], Expression]] = {}


def register_staff_column(name: str, expression: Callable[[], Expression]) -> None:
    """Annotate every row of `list_staff()` with `name` = `expression()` (an aggregate over
    the user's reverse relations, evaluated in the same query)."""
    _staff_columns[name] = expression


def list_staff() -> QuerySet[User]:
    """Every staff member with roles, presence (`comms.StaffPresence`), the registered columns
    (`open_ticket_count` from tickets) and whether two-factor sign-in is on (`has_two_factor`).

    Two queries whatever the number of rows: the users joined to presence, then their groups.
    """
    return (
        User.objects.select_related("presence")
        .prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name")))
        .annotate(
            **{name: expression() for name, expression in _staff_columns.items()},
            has_two_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        )
        .order_by("-is_active", "username")
    )


def list_active_staff_by_username(
    *, usernames: Iterable[str], action: Action | str | None = None
) -> list[User]:
    """Active staff with these usernames (exact, as @mentions name them); with `action`, only
    those holding its permission (through a role, directly, or as superusers). One query."""
    staff = User.objects.filter(username__in=set(usernames), is_active=True)
    if action is not None:
        app_label, codename = str(action).split(".", 1)
        staff = staff.filter(
            Q(is_superuser=True)
            | Q(
                groups__permissions__content_type__app_label=app_label,
                groups__permissions__codename=codename,
            )
            | Q(
                user_permissions__content_type__app_label=app_label,
                user_permissions__codename=codename,
            )
        ).distinct()
    return list(staff.order_by("username"))


def get_staff_member(*, user_id: int) -> User:
    member = User.objects.prefetch_related("groups").filter(pk=user_id).first()
    if member is None:
        raise NotFound("No such staff member.", code="user_not_found")
    return member


def get_role_names(*, user: User) -> list[str]:
    """The user's roles in matrix order (Admin first)."""
    names = {group.name for group in user.groups.all()}
    return [role.value for role in ROLE_ORDER if role.value in names]


def get_effective_permissions(*, user: User) -> list[str]:
    """Sorted `app_label.codename` permissions the user holds (none when deactivated)."""
    if not user.is_active:
        return []
    return sorted(user.get_all_permissions())


def list_api_tokens(*, owner: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(owner=owner).order_by("-created_at")


def get_api_token(*, owner: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(owner=owner, pk=token_id).first()
    if token is None:
        raise NotFound("No such API token.", code="token_not_found")
    return token


def get_api_token_for_key(*, raw: str) -> ApiToken | None:
    """The token row matching a raw token, whatever its state, or None."""
    prefix = split_token(raw)
    if prefix is None:
        return None
    token = ApiToken.objects.select_related("owner").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.key_hash, hash_token(raw)):
        return None
    return token


def list_locked_out_usernames() -> set[str]:
    """Usernames with a django-axes lockout still inside its cool-off (one query)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return set(
        AccessAttempt.objects.filter(
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
        ).values_list("username", flat=True)
    )
