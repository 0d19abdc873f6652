"""The one place that decides what a staff member may do.

Views, DRF permission classes, WebSocket consumers and services all ask `can()`; the role matrix
itself (which Django permissions each role Group holds) is documented in docs/permissions.md.
"""

from enum import StrEnum

from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from helpdesk.errors import PermissionDenied


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
    VIEW_CHAT = "comms.view_channel"
    POST_CHAT = "comms.post_channel"
    MANAGE_CHANNELS = "comms.manage_channels"
    MANAGE_STAFF = "accounts.manage_staff"
    VIEW_REPORTS = "analytics.view_reports"


def can(user: User | AnonymousUser | None, action: Action | str) -> bool:
    """True when an active, signed-in staff member holds the permission behind `action`."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.has_perm(str(action))


def require(user: User | AnonymousUser | None, action: Action | str) -> None:
    """Raise `PermissionDenied` (403) unless `can(user, action)`."""
    if not can(user, action):
        raise PermissionDenied("You do not have permission to do that.", code="permission_denied")
