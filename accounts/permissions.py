"""The one place that decides what a staff member may do.

Views, DRF permission classes, WebSocket consumers and services all ask `can()`; the role matrix
itself (which Django permissions each role Group holds) is documented in docs/permissions.md.
"""

from enum import StrEnum

from django.contrib.auth.models import AnonymousUser
from rest_framework.permissions import BasePermission

from accounts.models import Role, User
from core.errors import PermissionDenied


class Action(StrEnum):
    VIEW_TICKETS = "tickets.view_ticket"
    CREATE_TICKET = "tickets.add_ticket"
    UPDATE_TICKET = "tickets.change_ticket"
    REPLY_TICKET = "tickets.reply_ticket"
    NOTE_TICKET = "tickets.note_ticket"
    ASSIGN_TICKET = "tickets.assign_ticket"
    TAKE_TICKET = "tickets.take_ticket"
    ESCALATE_TICKET = "tickets.escalate_ticket"
    HANDOFF_TICKET = "tickets.handoff_ticket"
    MERGE = "tickets.merge_ticket"
    VIEW_CUSTOMERS = "tickets.view_customer"
    EDIT_CUSTOMERS = "tickets.change_customer"
    EXPORT_CUSTOMERS = "tickets.export_customers"
    MANAGE_SAVED_REPLIES = "tickets.change_savedreply"
    VIEW_CHAT = "comms.view_channel"
    POST_CHAT = "comms.post_channel"
    MANAGE_CHANNELS = "comms.manage_channels"
    MANAGE_STAFF = "accounts.manage_staff"
    USE_API_TOKENS = "accounts.add_apitoken"
    VIEW_REPORTS = "analytics.view_reports"
    EDIT_ORDERS = "integrations.edit_orders"
    REFUND_ORDERS = "integrations.refund_orders"
    MANAGE_AUTOMATION = "automation.manage_automation"


def can(user: User | AnonymousUser | None, action: Action | str) -> bool:
    """True when an active, signed-in staff member holds the permission behind `action`."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.has_perm(str(action))


def require(user: User | AnonymousUser | None, action: Action | str) -> None:
    """Raise `PermissionDenied` (403) unless `can(user, action)`."""
    if not can(user, action):
        raise PermissionDenied("You do not have permission to do that.", code="permission_denied")


def is_admin(user: User | AnonymousUser | None) -> bool:
    """Admins are the Admin role or superusers; only they may grant Admin or edit Admins."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return has_admin_role(user)


def has_admin_role(user: User) -> bool:
    """Admin role or superuser, active or not (a deactivated Admin is still an Admin's to edit)."""
    return user.is_superuser or any(g.name == Role.ADMIN for g in user.groups.all())


def grantable_roles(actor: User | AnonymousUser | None) -> list[str]:
    """Roles `actor` may hand out on /staff/: Managers everything but Admin."""
    if not can(actor, Action.MANAGE_STAFF):
        return []
    roles = [Role.ADMIN, Role.MANAGER, Role.AGENT, Role.VIEWER]
    return [r.value for r in roles if r != Role.ADMIN or is_admin(actor)]


def can_manage_member(actor: User | AnonymousUser | None, member: User) -> bool:
    """Staff managers may edit anyone except Admins, whom only Admins may edit."""
    return can(actor, Action.MANAGE_STAFF) and (is_admin(actor) or not has_admin_role(member))


class ActionPermission(BasePermission):
    """DRF permission class over `can()`: the view names its `required_action`.

    Anonymous callers fail authentication first (401); a signed-in caller without the
    permission gets 403.
    """

    def has_permission(self, request, view) -> bool:
        action = getattr(view, "required_action", None)
        if not request.user or not request.user.is_authenticated:
            return False
        return action is None or can(request.user, action)
