"""Background work of team chat."""

import logging

from django.db import transaction
from django_tasks import task

from comms import digests
from comms.live import publish_message_on_commit
from comms.models import ChatAttachment
from core import queues
from core.tasks import retry_later
from tickets.previews import store_preview

logger = logging.getLogger(__name__)


@task(queue_name=queues.DEFAULT)
def generate_chat_attachment_preview(*, attachment_id: int) -> str:
    """The thumbnail of a chat image or PDF, then the message again so open pages show it."""
    attachment = (
        ChatAttachment.objects.select_related("message__channel", "message__author")
        .filter(pk=attachment_id)
        .first()
    )
    if attachment is None:
        return "skipped"
    if attachment.preview_key:
        return "cached"
    key = store_preview(storage_key=attachment.storage_key, content_type=attachment.content_type)
    if key is None:
        return "failed"
    with transaction.atomic():
        ChatAttachment.objects.filter(pk=attachment_id).update(preview_key=key)
        publish_message_on_commit(attachment.message)
    return "generated"


# Not urgent (it waits out its window anyway), yet due on time: the default queue, with the
# other staff emails, never behind bulk jobs.
@task(queue_name=queues.DEFAULT)
def send_notification_digest(*, digest_id: int, attempt: int = 1) -> str:
    """Mail one digest of notifications (comms/digests.py); a failed send is retried with
    backoff and its error kept on the digest."""
    try:
        return digests.send_digest(digest_id=digest_id)
    except Exception as exc:  # recorded and retried: the provider may be down for a while
        logger.exception("comms.digest.failed digest=%s attempt=%s", digest_id, attempt)
        digests.record_digest_error(digest_id=digest_id, error=f"{type(exc).__name__}: {exc}")
        retry_later(
            send_notification_digest,
            retry_in=digests.DIGEST_RETRY.retry_in(attempt),
            digest_id=digest_id,
            attempt=attempt + 1,
        )
        return "failed"
