"""Team chat and notification writes."""

from functools import partial

from django.db import transaction

from accounts.models import User
from comms.models import Notification, NotificationKind
from helpdesk.realtime import group_send, user_group


def serialize_notification(notification: Notification) -> dict:
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "created_at": notification.created_at.isoformat(),
        "read_at": notification.read_at.isoformat() if notification.read_at else None,
    }


def notify_user(
    *,
    recipient: User,
    kind: NotificationKind | str,
    title: str,
    body: str = "",
    url: str = "",
    actor: User | None = None,
) -> Notification | None:
    """Create a notification for `recipient` and push it to their sockets after commit.

    Nobody is notified of their own action, and inactive staff get nothing.
    """
    if not recipient.is_active or (actor is not None and actor.pk == recipient.pk):
        return None
    notification = Notification.objects.create(
        recipient=recipient, actor=actor, kind=kind, title=title[:255], body=body, url=url
    )
    transaction.on_commit(
        partial(
            group_send,
            user_group(recipient.pk),
            {"type": "notification", "notification": serialize_notification(notification)},
        ),
        robust=True,
    )
    return notification
