"""Background work of team chat."""

from django.db import transaction
from django_tasks import task

from comms.live import publish_message_on_commit
from comms.models import ChatAttachment
from core import queues
from tickets.previews import store_preview


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
