"""Writes of the accounts app: staff management and API tokens, each an analytics event and,
where security-relevant, an audit row (docs/security.md)."""

from datetime import datetime, timedelta
from functools import partial

from axes.utils import reset as axes_reset
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from accounts import events
from accounts.audit import record_audit
from accounts.models import ApiToken, NotificationEmails, Role, User
from accounts.permissions import (
    Action,
    can_manage_member,
    grantable_roles,
    is_admin,
    require,
)
from accounts.tasks import send_password_email_task
from accounts.token_families import RevokedReason, revoke_token_families
from accounts.tokens import generate_token, hash_token
from accounts.user_sessions import end_all_sessions
from core.errors import ApplicationError, PermissionDenied
from core.events import publish_on_commit

# last_used_at is informative; writing it at most once a minute keeps API reads read-only.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def _check_roles(*, actor: User, roles: list[str]) -> list[str]:
    allowed = grantable_roles(actor)
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise ApplicationError(
            f"Unknown role: {', '.join(unknown)}.", code="invalid_role", fields={"roles": unknown}
        )
    refused = [r for r in roles if r not in allowed]
    if refused:
        raise PermissionDenied(
            f"You may not grant the role {', '.join(refused)}.", code="role_not_grantable"
        )
    if not roles:
        raise ApplicationError("Pick at least one role.", code="invalid_role")
    return sorted(set(roles))


def _require_member(*, actor: User, member: User) -> None:
    if not can_manage_member(actor, member):
        raise PermissionDenied("You may not change this staff member.", code="permission_denied")


def _send_password_email_on_commit(*, user: User, kind: str) -> None:
    transaction.on_commit(
        partial(send_password_email_task.enqueue, user_id=user.pk, kind=kind), robust=True
    )


@transaction.atomic
def create_staff_member(
    *,
    actor: User,
    username: str,
    email: str,
    roles: list[str],
    first_name: str = "",
    last_name: str = "",
    display_name: str = "",
) -> User:
    """Invite a staff member: no password yet, a set-your-password link is emailed."""
    require(actor, Action.MANAGE_STAFF)
    roles = _check_roles(actor=actor, roles=roles)
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError(
            "That username is taken.", code="username_taken", fields={"username": ["taken"]}
        )
    member = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        display_name=display_name,
        is_staff=Role.ADMIN in roles,
    )
    member.set_unusable_password()
    member.full_clean()
    member.save()
    member.groups.set(Group.objects.filter(name__in=roles))
    _announce(name="staff.created", actor=actor, subject=member, properties={"roles": roles})
    record_audit(action="staff.created", actor=actor, target=member, details={"roles": roles})
    _send_password_email_on_commit(user=member, kind="invite")
    return member


@transaction.atomic
def update_staff_member(
    *,
    actor: User,
    member: User,
    roles: list[str],
    email: str,
    first_name: str = "",
    last_name: str = "",
    display_name: str = "",
) -> User:
    """Edit profile fields and roles; a role change is recorded with before/after."""
    member = User.objects.select_for_update().get(pk=member.pk)
    _require_member(actor=actor, member=member)
    roles = _check_roles(actor=actor, roles=roles)
    before = sorted(member.groups.values_list("name", flat=True))
    if member.pk == actor.pk and Role.ADMIN in before and Role.ADMIN not in roles:
        raise ApplicationError("You cannot remove your own Admin role.", code="own_admin_role")
    member.email = email
    member.first_name = first_name
    member.last_name = last_name
    member.display_name = display_name
    member.is_staff = Role.ADMIN in roles or member.is_superuser
    member.full_clean()
    member.save()
    if before != roles:
        member.groups.set(Group.objects.filter(name__in=roles))
        if set(before) - set(roles):
            # A demotion: API sign-ins made under the old roles end (docs/security.md).
            revoke_token_families(user=member, reason=RevokedReason.ROLE_REMOVED)
        _announce(
            name="staff.role_changed",
            actor=actor,
            subject=member,
            properties={"before": before, "after": roles},
        )
        record_audit(
            action="staff.role_changed",
            actor=actor,
            target=member,
            details={"before": before, "after": roles},
        )
    else:
        _announce(name="staff.updated", actor=actor, subject=member)
    return member


@transaction.atomic
def set_staff_active(*, actor: User, member: User, is_active: bool) -> User:
    """Deactivate (never delete: tickets and messages stay theirs) or reactivate a member."""
    member = User.objects.select_for_update().get(pk=member.pk)
    _require_member(actor=actor, member=member)
    if member.pk == actor.pk:
        raise ApplicationError("You cannot deactivate yourself.", code="own_account")
    if member.is_active == is_active:
        return member
    member.is_active = is_active
    member.save(update_fields=["is_active"])
    name = "staff.reactivated" if is_active else "staff.deactivated"
    _announce(name=name, actor=actor, subject=member)
    record_audit(action=name, actor=actor, target=member)
    if not is_active:
        # Signed out everywhere at once, live sockets included (docs/security.md).
        end_all_sessions(user=member, actor=actor)
    return member


@transaction.atomic
def reset_staff_password(*, actor: User, member: User) -> User:
    """Email the member a reset link; their current password keeps working until they use it."""
    _require_member(actor=actor, member=member)
    if not member.is_active:
        raise ApplicationError("Reactivate the account first.", code="user_inactive")
    if not member.email:
        raise ApplicationError("This staff member has no email address.", code="no_email")
    _announce(name="staff.password_reset_sent", actor=actor, subject=member)
    record_audit(action="staff.password_reset_sent", actor=actor, target=member)
    _send_password_email_on_commit(user=member, kind="reset")
    return member


@transaction.atomic
def unlock_staff_login(*, actor: User, member: User) -> int:
    """Lift a login-throttling lockout (every IP) early; returns the attempts cleared."""
    _require_member(actor=actor, member=member)
    cleared = axes_reset(username=member.username)
    _announce(
        name="staff.login_unlocked", actor=actor, subject=member, properties={"cleared": cleared}
    )
    record_audit(
        action="staff.login_unlocked", actor=actor, target=member, details={"cleared": cleared}
    )
    return cleared


@transaction.atomic
def create_api_token(
    *, actor: User, owner: User, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for `owner`; the raw token is returned once and only its hash is stored."""
    if actor.pk != owner.pk and not is_admin(actor):
        raise PermissionDenied("You may only create tokens for yourself.", code="permission_denied")
    require(owner, Action.USE_API_TOKENS)
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError(
            "The expiry must be in the future.", code="invalid", fields={"expires_at": ["past"]}
        )
    raw, prefix = generate_token()
    token = ApiToken(
        name=name,
        owner=owner,
        prefix=prefix,
        key_hash=hash_token(raw),
        created_by=actor,
        expires_at=expires_at,
    )
    token.full_clean()
    token.save()
    _announce(
        name="api_token.created",
        actor=actor,
        subject=token,
        properties={"owner": owner.pk, "name": name},
    )
    record_audit(
        action="api_token.created",
        actor=actor,
        target=token,
        details={"owner": owner.pk, "name": name, "prefix": prefix},
    )
    return token, raw


@transaction.atomic
def revoke_api_token(*, actor: User, token: ApiToken) -> ApiToken:
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.owner_id != actor.pk and not can_manage_member(actor, token.owner):
        raise PermissionDenied("You may not revoke this token.", code="permission_denied")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _announce(
            name="api_token.revoked",
            actor=actor,
            subject=token,
            properties={"owner": token.owner_id},
        )
        record_audit(
            action="api_token.revoked",
            actor=actor,
            target=token,
            details={"owner": token.owner_id, "prefix": token.prefix},
        )
    return token


def touch_api_token(*, token: ApiToken) -> None:
    """Record use, at most once per TOKEN_TOUCH_INTERVAL (a single UPDATE, no lock)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


# Personal settings -----------------------------------------------------------------------------


@transaction.atomic
def set_notification_emails(*, user: User, notification_emails: str) -> User:
    """The signed-in person's own choice of notification emails (`NotificationEmails`)."""
    if notification_emails not in NotificationEmails.values:
        raise ApplicationError(
            "Choose whether notifications are emailed.",
            code="invalid",
            fields={"notification_emails": ["Unknown choice."]},
        )
    user.notification_emails = notification_emails
    user.save(update_fields=["notification_emails"])
    return user


def _announce(*, name: str, actor: User | None, subject, properties: dict | None = None) -> None:
    """Publish the change for the analytics trail (it records it in this transaction)."""
    publish_on_commit(
        events.StaffActionTaken(
            name=name,
            actor_id=actor.pk if actor is not None and actor.is_authenticated else None,
            subject_type=subject._meta.label_lower,
            subject_id=subject.pk,
            properties=properties or {},
        )
    )


# The automation account --------------------------------------------------------------------------

AUTOMATION_USERNAME = "automation"
# What rule actions need; the automation account holds these directly, not through a role.
# Not `reply_ticket`: it sends through `send_automated_message` and must not show up in
# assignment pickers or round-robin as someone who works tickets.
AUTOMATION_PERMISSIONS = [
    Action.UPDATE_TICKET,
    Action.NOTE_TICKET,
    Action.ASSIGN_TICKET,
    Action.ESCALATE_TICKET,
    Action.VIEW_CHAT,
    Action.POST_CHAT,
]


def get_automation_actor() -> User:
    """The account rules and system decisions act as ("Automation" on timelines).

    Created with its permissions once, the first time anything needs it; afterwards this is one
    read (permissions are granted only on creation, never again per rule fire).
    """
    user = User.objects.filter(username=AUTOMATION_USERNAME).first()
    if user is not None:
        return user
    return _create_automation_actor()


@transaction.atomic
def _create_automation_actor() -> User:
    user, created = User.objects.get_or_create(
        username=AUTOMATION_USERNAME,
        defaults={"display_name": "Automation", "is_active": True, "max_open_tickets": 0},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        for action in AUTOMATION_PERMISSIONS:
            app_label, codename = str(action).split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    return User.objects.get(pk=user.pk)  # a fresh instance: no stale permission cache
