"""Background work of the accounts app: staff emails go out through the outbound email path."""

from django_tasks import task

from accounts.audit import prune_audit_log
from accounts.emails import send_password_email
from core import queues


@task(queue_name=queues.DEFAULT)
def send_password_email_task(*, user_id: int, kind: str) -> None:
    """`kind` is "invite" (set your first password) or "reset" (a staff manager's reset)."""
    send_password_email(user_id=user_id, kind=kind)


@task(queue_name=queues.BULK)
def prune_audit_log_task() -> int:
    """The retention prune as a background task (same as `manage.py prune_audit_log`)."""
    return prune_audit_log()
