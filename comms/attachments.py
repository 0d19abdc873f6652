"""Files in team chat: artwork and proofs staff share in channels and threads.

Stored exactly like ticket files, through tickets' storage helpers: a random key in the default
storage, the type sniffed from the bytes, the same size limit. The bytes are written before the
chat transaction takes its channel lock (no storage call under a row lock) and removed again
if the message is refused. Served only to who may read the channel (comms.selectors).
"""

from dataclasses import dataclass

from django.core.files import File
from django.core.files.storage import default_storage
from django.urls import reverse

from comms.models import ChannelMessage, ChatAttachment
from core.files import PREVIEWABLE_TYPES, Digest
from tickets.attachments import (
    check_outgoing_files,
    describe_uploads,
    safe_filename,
    save_to_storage,
)


@dataclass(frozen=True)
class StoredUpload:
    filename: str
    declared_type: str
    storage_key: str
    digest: Digest


def check_chat_files(uploads: list[File]) -> None:
    """The ticket files' limit (ATTACHMENT_UPLOAD_MAX_BYTES in total): a 400 naming it."""
    check_outgoing_files(channel="", files=describe_uploads(uploads))


def store_uploads(uploads: list[File]) -> list[StoredUpload]:
    stored: list[StoredUpload] = []
    try:
        for upload in uploads:
            filename = safe_filename(getattr(upload, "name", "") or "", fallback="upload")
            declared = (getattr(upload, "content_type", "") or "")[:127]
            key, digest = save_to_storage(upload, filename=filename, declared_type=declared)
            stored.append(StoredUpload(filename, declared, key, digest))
    except BaseException:
        discard_uploads(stored)
        raise
    return stored


def discard_uploads(stored: list[StoredUpload]) -> None:
    """Remove bytes whose message was refused or rolled back."""
    for item in stored:
        default_storage.delete(item.storage_key)


def create_chat_attachments(
    *, message: ChannelMessage, stored: list[StoredUpload], uploaded_by
) -> list[ChatAttachment]:
    rows = []
    for item in stored:
        row = ChatAttachment(
            message=message,
            uploaded_by=uploaded_by,
            filename=item.filename,
            declared_type=item.declared_type,
            content_type=item.digest.content_type,
            size=item.digest.size,
            sha256=item.digest.sha256,
            storage_key=item.storage_key,
        )
        row.full_clean(exclude=["message", "uploaded_by"])
        rows.append(row)
    return ChatAttachment.objects.bulk_create(rows)


def needs_preview(attachment: ChatAttachment) -> bool:
    return attachment.content_type in PREVIEWABLE_TYPES and not attachment.preview_key


def serialize_attachment(attachment: ChatAttachment) -> dict:
    """The API shape of a message's files (DESIGN.md), plus the thumbnail's URL once made."""
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "url": reverse("comms:file", args=[attachment.pk]),
        "preview_url": reverse("comms:file-preview", args=[attachment.pk])
        if attachment.preview_key
        else None,
        "state": "stored",
    }
