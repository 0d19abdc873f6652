"""Emails of the notifications that reached someone while they were offline: one digest per
window (`NOTIFICATION_DIGEST_MINUTES`), sent by the `send_notification_digest` task that
`comms.services.notify_user` queued when it opened the digest.

The mail goes through Django's mail (the SendGrid backend, a sandbox folder without
credentials), outside any transaction. Nothing is mailed to a deactivated account, to someone
who has turned emails off since, or about notifications already read in the app.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import NotificationEmails, User
from comms.models import EmailDigest, Notification
from core.tasks import Backoff

logger = logging.getLogger(__name__)

# A provider outage gets a few tries; the notifications stay in the bell whatever happens.
DIGEST_RETRY = Backoff(attempts=4, first_delay=timedelta(minutes=1))


@transaction.atomic
def _close_digest(*, digest_id: int) -> EmailDigest | None:
    """Close the digest (later notifications open the next one); None when it is gone or sent."""
    digest = (
        EmailDigest.objects.select_for_update(of=("self",))
        .select_related("recipient")
        .filter(pk=digest_id)
        .first()
    )
    if digest is None or digest.sent_at is not None:
        return None
    if digest.closed_at is None:
        digest.closed_at = timezone.now()
        digest.save(update_fields=["closed_at"])
    return digest


def _wants_email(user: User) -> bool:
    return (
        user.is_active
        and bool(user.email)
        and user.notification_emails == NotificationEmails.DIGEST
    )


def _absolute(url: str) -> str:
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{url}" if url.startswith("/") else url


def compose_digest_email(*, recipient: User, items: list[Notification]) -> EmailMultiAlternatives:
    context = {
        "recipient": recipient,
        "items": [{"notification": n, "link": _absolute(n.url)} for n in items],
        "settings_link": _absolute("/accounts/notifications/"),
        "minutes": settings.NOTIFICATION_DIGEST_MINUTES,
    }
    subject = (
        items[0].title if len(items) == 1 else f"{len(items)} notifications while you were away"
    )
    message = EmailMultiAlternatives(
        subject=f"Printdesk: {subject}"[:200],
        body=render_to_string("comms/email/digest.txt", context),
        to=[recipient.email],
        # Automated mail: out-of-office replies must not answer it (RFC 3834).
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string("comms/email/digest.html", context), "text/html")
    return message


def send_digest(*, digest_id: int) -> str:
    """Close the digest and mail its unread notifications; returns what happened."""
    digest = _close_digest(digest_id=digest_id)
    if digest is None:
        return "skipped"
    recipient = digest.recipient
    items = list(digest.notifications.filter(read_at__isnull=True).order_by("created_at", "pk"))
    if not _wants_email(recipient) or not items:
        return "nothing_to_send"  # closed, never sent: the admin shows it so
    compose_digest_email(recipient=recipient, items=items).send()
    EmailDigest.objects.filter(pk=digest.pk).update(sent_at=timezone.now(), error="")
    logger.info("comms.digest.sent digest=%s user=%s items=%s", digest.pk, recipient.pk, len(items))
    return "sent"


def record_digest_error(*, digest_id: int, error: str) -> None:
    EmailDigest.objects.filter(pk=digest_id).update(error=error[:255])
