"""Files in team chat: artwork and proofs staff share in channels and threads.

Stored exactly like ticket files, through tickets' storage helpers: a random key in the default
storage, the type sniffed from the bytes, the same size limit. The bytes are written before the
chat transaction takes its channel lock (no storage call under a row lock) and removed again
if the message is refused. Served only to who may read the channel (comms.selectors).

A ticket's file shared to a channel ("Share to #channel") is not stored again: its chat row
points at the ticket file's bytes (and thumbnail) and remembers the ticket file, so a refused
message never deletes them and an erasure of the ticket's customer removes the chat row too
(docs/decisions.md, "Sharing a ticket file in team chat").
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
    digest_stored_file,
    safe_filename,
    save_to_storage,
)
from tickets.models import Attachment


@dataclass(frozen=True)
class ChatFile:
    """A file about to go on a chat message: a fresh upload, or a ticket file's bytes."""

    filename: str
    declared_type: str
    storage_key: str
    digest: Digest
    # Set for a shared ticket file: its bytes belong to the ticket and are never deleted here.
    source_attachment_id: int | None = None
    preview_key: str = ""

    @property
    def is_shared(self) -> bool:
        return self.source_attachment_id is not None


def check_chat_files(uploads: list[File]) -> None:
    """The ticket files' limit (ATTACHMENT_UPLOAD_MAX_BYTES in total): a 400 naming it. Shared
    ticket files do not count: nothing of them is uploaded, stored or sent anywhere."""
    check_outgoing_files(channel="", files=describe_uploads(uploads))


def store_uploads(uploads: list[File]) -> list[ChatFile]:
    stored: list[ChatFile] = []
    try:
        for upload in uploads:
            filename = safe_filename(getattr(upload, "name", "") or "", fallback="upload")
            declared = (getattr(upload, "content_type", "") or "")[:127]
            key, digest = save_to_storage(upload, filename=filename, declared_type=declared)
            stored.append(ChatFile(filename, declared, key, digest))
    except BaseException:
        discard_uploads(stored)
        raise
    return stored


def chat_files_from_tickets(shared: list[Attachment]) -> list[ChatFile]:
    """Ticket files as chat files, pointing at their stored bytes and thumbnail. A file stored
    before digests were recorded (migration 0006, not backfilled yet) is read once for them."""
    files = []
    for attachment in shared:
        digest = Digest(
            sha256=attachment.sha256,
            size=attachment.size or 0,
            content_type=attachment.content_type,
        )
        if not (attachment.sha256 and attachment.content_type and attachment.size is not None):
            digest = digest_stored_file(
                storage_key=attachment.storage_key, declared_type=attachment.declared_type
            )
        files.append(
            ChatFile(
                filename=attachment.filename,
                declared_type=attachment.declared_type,
                storage_key=attachment.storage_key,
                digest=digest,
                source_attachment_id=attachment.pk,
                preview_key=attachment.preview_key,
            )
        )
    return files


def discard_uploads(stored: list[ChatFile]) -> None:
    """Remove bytes whose message was refused or rolled back (a shared ticket file's stay)."""
    for item in stored:
        if not item.is_shared:
            default_storage.delete(item.storage_key)


def create_chat_attachments(
    *, message: ChannelMessage, stored: list[ChatFile], uploaded_by
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
            preview_key=item.preview_key,
            source_attachment_id=item.source_attachment_id,
        )
        row.full_clean(exclude=["message", "uploaded_by", "source_attachment"])
        rows.append(row)
    return ChatAttachment.objects.bulk_create(rows)


def needs_preview(attachment: ChatAttachment) -> bool:
    return attachment.content_type in PREVIEWABLE_TYPES and not attachment.preview_key


def serialize_shared_from(attachment: ChatAttachment) -> dict | None:
    """The ticket a shared file came from (its link on the message), or None."""
    source = attachment.source_attachment
    if source is None:
        return None
    reference = source.ticket.reference
    return {"reference": reference, "url": f"/tickets/{reference}/"}


def serialize_attachment(attachment: ChatAttachment) -> dict:
    """The API shape of a message's files (DESIGN.md), plus the thumbnail's URL once made and,
    for a shared ticket file, its ticket."""
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
        "ticket": serialize_shared_from(attachment),
    }
