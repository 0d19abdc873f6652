"""Timeline previews: a PNG thumbnail of an image or of a PDF's first page, made in a task and
kept in storage next to the file (`Attachment.preview_key`), so a page never renders a PDF."""

import io
import logging
import secrets
from functools import partial

import pypdfium2
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django_tasks import task
from PIL import Image, ImageOps

from core import queues
from core.files import PDF, PREVIEWABLE_TYPES
from tickets.live import publish_ticket_updated_on_commit
from tickets.models import Attachment, AttachmentState

logger = logging.getLogger(__name__)

# Decompression bombs: refuse to decode images above this many pixels (Pillow's default x2).
MAX_SOURCE_PIXELS = 180_000_000


def preview_pixels() -> int:
    return settings.ATTACHMENT_PREVIEW_PIXELS


def render_preview(handle, *, content_type: str, box: int) -> bytes:
    """PNG bytes of a thumbnail at most `box` pixels on its longest side."""
    if content_type == PDF:
        document = pypdfium2.PdfDocument(handle.read())
        try:
            page = document[0]
            width, height = page.get_size()
            scale = box / max(width, height, 1)
            image = page.render(scale=scale).to_pil()
        finally:
            document.close()
    else:
        Image.MAX_IMAGE_PIXELS = MAX_SOURCE_PIXELS
        image = Image.open(handle)
        image.seek(0)  # first frame of an animation
        image = ImageOps.exif_transpose(image)
        image.thumbnail((box, box))
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def schedule_preview(attachment: Attachment) -> None:
    """Enqueue a preview after commit when the file has a type we can draw."""
    if attachment.content_type in PREVIEWABLE_TYPES and not attachment.preview_key:
        transaction.on_commit(
            partial(generate_attachment_preview.enqueue, attachment_id=attachment.pk)
        )


def store_preview(*, storage_key: str, content_type: str) -> str | None:
    """Render and store the thumbnail of a stored file; its storage key, or None when the file
    cannot be drawn (a broken file has no preview, the file itself stays usable)."""
    try:
        with default_storage.open(storage_key, "rb") as handle:
            png = render_preview(handle, content_type=content_type, box=preview_pixels())
    except Exception as exc:  # called from tasks only: recorded, never raised
        logger.warning("attachments.preview_failed key=%s %s", storage_key, exc)
        return None
    return default_storage.save(f"previews/{secrets.token_hex(16)}.png", ContentFile(png))


@task(queue_name=queues.DEFAULT)
def generate_attachment_preview(*, attachment_id: int) -> str:
    attachment = Attachment.objects.select_related("ticket").filter(pk=attachment_id).first()
    if attachment is None or attachment.state != AttachmentState.STORED:
        return "skipped"
    if attachment.preview_key:
        return "cached"
    key = store_preview(storage_key=attachment.storage_key, content_type=attachment.content_type)
    if key is None:
        return "failed"
    with transaction.atomic():
        Attachment.objects.filter(pk=attachment_id).update(preview_key=key)
        publish_ticket_updated_on_commit(attachment.ticket)
    return "generated"
