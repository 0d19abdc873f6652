"""Files on tickets: storing uploads and downloaded media, forwarding, retrying, previews.

Bytes go to Django's default storage (local files, or S3 through django-storages) under a random
key; the database row knows the sniffed type, size and sha256. Nothing here is served publicly:
tickets.views streams a file after a permission check.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import PurePath
from typing import IO

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from accounts.models import User
from accounts.permissions import Action, require
from core.errors import ApplicationError, Conflict, NotFound
from core.events import publish_on_commit
from core.files import SNIFF_BYTES, Digest, digest_chunks, sniff_content_type
from tickets.events import AttachmentFetchRequested
from tickets.live import publish_ticket_updated_on_commit
from tickets.models import (
    Attachment,
    AttachmentState,
    ChannelKind,
    InternalNote,
    Ticket,
    TicketMessage,
)
from tickets.previews import schedule_preview

CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class InboundFile:
    """A file that came with a customer's message: already stored (Inbound Parse) or a link."""

    filename: str
    declared_type: str = ""
    source_url: str = ""
    storage_key: str = ""
    size: int | None = None
    sha256: str = ""
    content_type: str = ""
    content_id: str = ""


def safe_filename(name: str, *, fallback: str = "file") -> str:
    """A display name without directories or control characters (unicode kept)."""
    base = PurePath((name or "").replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable()).strip().strip(".")
    return (base or fallback)[:255]


def new_storage_key(filename: str) -> str:
    """Random, unguessable and unique; the extension only helps humans browsing the bucket."""
    stem = get_valid_filename(safe_filename(filename)) or "file"
    return f"attachments/{timezone.now():%Y/%m}/{secrets.token_hex(16)}/{stem[-100:]}"


def save_to_storage(
    handle: IO[bytes], *, filename: str, declared_type: str = ""
) -> tuple[str, Digest]:
    """Store a file once, reading it once, and return its key and digest."""
    handle.seek(0)
    digest = digest_chunks(iter(partial(handle.read, CHUNK_BYTES), b""), declared=declared_type)
    handle.seek(0)
    key = default_storage.save(new_storage_key(filename), File(handle, name=filename))
    return key, digest


def digest_stored_file(*, storage_key: str, declared_type: str = "") -> Digest:
    """sha256, size and sniffed type of bytes already in storage, read once in chunks: for files
    stored before these were recorded (migration 0006). `FileNotFoundError` when they are gone."""
    with default_storage.open(storage_key, "rb") as handle:
        return digest_chunks(iter(partial(handle.read, CHUNK_BYTES), b""), declared=declared_type)


def create_inbound_attachments(
    *, message: TicketMessage, files: list[InboundFile], provider: str
) -> list[Attachment]:
    """Rows for a customer's files; links are downloaded by whoever holds the provider's keys."""
    rows = []
    for item in files:
        stored = bool(item.storage_key)
        row = Attachment(
            ticket_id=message.ticket_id,
            message=message,
            filename=safe_filename(item.filename, fallback=_fallback_name(item)),
            declared_type=(item.declared_type or "")[:127],
            content_type=item.content_type if stored else "",
            size=item.size,
            sha256=item.sha256,
            storage_key=item.storage_key,
            content_id=item.content_id.strip("<> ")[:255],
            source_url=item.source_url[:2000],
            provider=provider,
            state=AttachmentState.STORED if stored else AttachmentState.PENDING,
            stored_at=timezone.now() if stored else None,
        )
        row.full_clean(exclude=["ticket", "message", "note", "uploaded_by"])
        rows.append(row)
    created = Attachment.objects.bulk_create(rows)
    for row in created:
        if row.is_stored:
            schedule_preview(row)
        else:
            publish_on_commit(AttachmentFetchRequested(attachment_id=row.pk, provider=provider))
    return created


def _fallback_name(item: InboundFile) -> str:
    tail = item.source_url.rstrip("/").rsplit("/", 1)[-1] if item.source_url else ""
    return tail or "attachment"


def attach_uploads(
    *,
    ticket: Ticket,
    uploads: list[File],
    uploaded_by: User | None,
    message: TicketMessage | None = None,
    note: InternalNote | None = None,
) -> list[Attachment]:
    """Store staff uploads on a reply or note (limits are checked by the caller first)."""
    created = []
    for upload in uploads:
        filename = safe_filename(getattr(upload, "name", "") or "", fallback="upload")
        declared = getattr(upload, "content_type", "") or ""
        key, digest = save_to_storage(upload, filename=filename, declared_type=declared)
        created.append(
            _stored_row(
                ticket=ticket,
                message=message,
                note=note,
                uploaded_by=uploaded_by,
                filename=filename,
                declared_type=declared,
                key=key,
                digest=digest,
            )
        )
    return created


def forward_attachments(
    *,
    ticket: Ticket,
    attachments: list[Attachment],
    uploaded_by: User | None,
    message: TicketMessage | None = None,
    note: InternalNote | None = None,
) -> list[Attachment]:
    """New rows for files already on this ticket; the stored bytes are shared, not copied."""
    created = []
    for source in attachments:
        created.append(
            _stored_row(
                ticket=ticket,
                message=message,
                note=note,
                uploaded_by=uploaded_by,
                filename=source.filename,
                declared_type=source.declared_type,
                key=source.storage_key,
                digest=Digest(
                    sha256=source.sha256, size=source.size or 0, content_type=source.content_type
                ),
                preview_key=source.preview_key,
            )
        )
    return created


def _stored_row(
    *, ticket, message, note, uploaded_by, filename, declared_type, key, digest, preview_key=""
):
    row = Attachment(
        ticket=ticket,
        message=message,
        note=note,
        uploaded_by=uploaded_by,
        filename=filename,
        declared_type=declared_type[:127],
        content_type=digest.content_type,
        size=digest.size,
        sha256=digest.sha256,
        storage_key=key,
        preview_key=preview_key,
        state=AttachmentState.STORED,
        stored_at=timezone.now(),
    )
    row.full_clean(exclude=["ticket", "message", "note", "uploaded_by"])
    row.save()
    if not preview_key:
        schedule_preview(row)
    return row


def get_forwardable(*, ticket: Ticket, attachment_ids: list[int]) -> list[Attachment]:
    """Stored files of `ticket` by id, in the order given; an id from elsewhere is a 400."""
    if not attachment_ids:
        return []
    found = {
        a.pk: a
        for a in Attachment.objects.filter(
            ticket=ticket, pk__in=attachment_ids, state=AttachmentState.STORED
        )
    }
    missing = [str(pk) for pk in attachment_ids if pk not in found]
    if missing:
        raise ApplicationError(
            f"No stored file {', '.join(missing)} on this ticket.",
            code="unknown_attachment",
            fields={"forward_attachment_ids": [f"Unknown: {', '.join(missing)}."]},
        )
    return [found[pk] for pk in attachment_ids]


# Downloads of provider links ---------------------------------------------------------------------


@transaction.atomic
def store_fetched_file(*, attachment_id: int, handle: IO[bytes], digest: Digest) -> Attachment:
    """Keep the bytes a download task fetched; a second run for a stored file changes nothing."""
    attachment = Attachment.objects.select_for_update().get(pk=attachment_id)
    if attachment.is_stored:
        return attachment
    key = default_storage.save(new_storage_key(attachment.filename), File(handle, name="f"))
    attachment.storage_key = key
    attachment.content_type = digest.content_type
    attachment.size = digest.size
    attachment.sha256 = digest.sha256
    attachment.state = AttachmentState.STORED
    attachment.error = ""
    attachment.stored_at = timezone.now()
    attachment.save()
    schedule_preview(attachment)
    publish_ticket_updated_on_commit(attachment.ticket)
    return attachment


@transaction.atomic
def record_fetch_attempt(*, attachment_id: int) -> Attachment:
    attachment = Attachment.objects.select_for_update().get(pk=attachment_id)
    attachment.fetch_attempts += 1
    attachment.save(update_fields=["fetch_attempts"])
    return attachment


@transaction.atomic
def mark_fetch_failed(*, attachment_id: int, error: str) -> Attachment:
    """The link stays; the timeline offers "retry"."""
    attachment = Attachment.objects.select_for_update().get(pk=attachment_id)
    if attachment.is_stored:
        return attachment
    attachment.state = AttachmentState.FAILED
    attachment.error = error[:500]
    attachment.save(update_fields=["state", "error"])
    publish_ticket_updated_on_commit(attachment.ticket)
    return attachment


@transaction.atomic
def retry_attachment_fetch(*, attachment: Attachment, actor: User) -> Attachment:
    """Staff asked to try a failed download again."""
    require(actor, Action.REPLY_TICKET)
    attachment = Attachment.objects.select_for_update().get(pk=attachment.pk)
    if attachment.state != AttachmentState.FAILED:
        raise Conflict("This file is not a failed download.", code="not_failed")
    if not attachment.source_url:
        raise Conflict("There is no provider link to download it from.", code="no_source")
    attachment.state = AttachmentState.PENDING
    attachment.error = ""
    attachment.fetch_attempts = 0
    attachment.save(update_fields=["state", "error", "fetch_attempts"])
    publish_on_commit(
        AttachmentFetchRequested(attachment_id=attachment.pk, provider=attachment.provider)
    )
    publish_ticket_updated_on_commit(attachment.ticket)
    return attachment


def list_outbound_files(*, message_id: int) -> list[Attachment]:
    """The stored files an outbound message carries, in the order they were attached."""
    return list(
        Attachment.objects.filter(message_id=message_id, state=AttachmentState.STORED).order_by(
            "pk"
        )
    )


def get_pending_attachment(*, attachment_id: int) -> Attachment | None:
    """The attachment a download task should fetch, or None when there is nothing to do."""
    return (
        Attachment.objects.filter(pk=attachment_id, state=AttachmentState.PENDING)
        .exclude(source_url="")
        .first()
    )


def open_attachment(attachment: Attachment) -> IO[bytes]:
    if not attachment.is_stored:
        raise NotFound("This file is not available.", code="attachment_unavailable")
    return default_storage.open(attachment.storage_key, "rb")


def read_attachment(attachment: Attachment, *, max_bytes: int) -> bytes:
    """The whole file in memory, refused above `max_bytes` (e.g. to send it by email)."""
    if (attachment.size or 0) > max_bytes:
        raise ApplicationError(
            f"{attachment.filename} is larger than {max_bytes // (1024 * 1024)} MB.",
            code="attachment_too_large",
        )
    with open_attachment(attachment) as handle:
        return handle.read(max_bytes + 1)[:max_bytes]


# Public links: Twilio fetches MMS/WhatsApp media from us; SMS without MMS gets a link ----------

PUBLIC_LINK_SALT = "tickets.attachments.public-link"
SMS_LINK_MAX_AGE = timedelta(days=7)


def public_link_url(attachment: Attachment, *, max_age: timedelta | None = None) -> str:
    """An unguessable (signed) link that stops working after `max_age` (default: the provider
    fetch window, PUBLIC_MEDIA_URL_MAX_AGE_SECONDS)."""
    if max_age is None:
        max_age = timedelta(seconds=settings.PUBLIC_MEDIA_URL_MAX_AGE_SECONDS)
    expires = int((timezone.now() + max_age).timestamp())
    token = signing.dumps(
        {"a": attachment.pk, "k": attachment.storage_key[-24:], "e": expires},
        salt=PUBLIC_LINK_SALT,
    )
    return f"{settings.PUBLIC_BASE_URL}/files/public/{token}/"


def get_attachment_by_public_token(*, token: str) -> Attachment:
    invalid = NotFound("This link has expired or is not valid.", code="link_invalid")
    try:
        data = signing.loads(token, salt=PUBLIC_LINK_SALT)
    except signing.BadSignature as exc:
        raise invalid from exc
    if not isinstance(data, dict) or int(data.get("e", 0)) < timezone.now().timestamp():
        raise invalid
    attachment = Attachment.objects.filter(pk=data.get("a"), state=AttachmentState.STORED).first()
    if attachment is None or attachment.storage_key[-24:] != data.get("k"):
        raise invalid
    return attachment


def get_ticket_attachment(*, ticket: Ticket, attachment_id: int) -> Attachment:
    """A stored file of this ticket; another ticket's file is as unknown as a missing one."""
    attachment = Attachment.objects.filter(
        pk=attachment_id, ticket=ticket, state=AttachmentState.STORED
    ).first()
    if attachment is None:
        raise NotFound("No such file on this ticket.", code="attachment_not_found")
    return attachment


# Files going out: per-channel provider limits, checked before anything is queued -----------------

MB = 1024 * 1024
TWILIO_MMS_MAX_BYTES = 5 * MB
TWILIO_MMS_MAX_FILES = 10
WHATSAPP_MAX_BYTES = 16 * MB
WHATSAPP_IMAGE_MAX_BYTES = 5 * MB
META_MAX_BYTES = 25 * MB
SENDGRID_MAX_BYTES = 30 * MB
# The mail's text, headers and MIME structure also count towards SendGrid's 30 MB.
SENDGRID_MARGIN_BYTES = 256 * 1024
WHATSAPP_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "audio/ogg",
        "audio/amr",
        "audio/3gpp",
        "audio/aac",
        "audio/mpeg",
        "video/mp4",
        "video/3gpp",
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "text/vcard",
    }
)
INSTAGRAM_TYPE_PREFIXES = ("image/", "video/", "audio/")


@dataclass(frozen=True)
class OutgoingFile:
    filename: str
    content_type: str
    size: int


def describe_uploads(uploads: list[File]) -> list[OutgoingFile]:
    """Name, sniffed type and size of staff uploads, before they are stored."""
    described = []
    for upload in uploads:
        upload.seek(0)
        head = upload.read(SNIFF_BYTES)
        upload.seek(0)
        described.append(
            OutgoingFile(
                filename=safe_filename(getattr(upload, "name", "") or "", fallback="upload"),
                content_type=sniff_content_type(
                    head, declared=getattr(upload, "content_type", "") or ""
                ),
                size=upload.size or 0,
            )
        )
    return described


def describe_attachments(attachments: list[Attachment]) -> list[OutgoingFile]:
    return [
        OutgoingFile(filename=a.filename, content_type=a.content_type, size=a.size or 0)
        for a in attachments
    ]


def is_mms_capable(number: str) -> bool:
    """Twilio sends MMS to US and Canadian numbers; elsewhere a file goes as a link."""
    return number.removeprefix("whatsapp:").startswith("+1")


def _too_big(message: str) -> ApplicationError:
    return ApplicationError(message, code="files_too_large", fields={"attachments": [message]})


def check_outgoing_files(*, channel: str, files: list[OutgoingFile], sms_to: str = "") -> None:
    """A clear 400 naming the provider's limit, before anything is stored or queued."""
    if not files:
        return
    total = sum(f.size for f in files)
    if total > settings.ATTACHMENT_UPLOAD_MAX_BYTES:
        limit = settings.ATTACHMENT_UPLOAD_MAX_BYTES // MB
        raise _too_big(f"Files on one message are limited to {limit} MB in total.")
    if channel == ChannelKind.EMAIL:
        encoded = sum(4 * ((f.size + 2) // 3) for f in files)
        if encoded > SENDGRID_MAX_BYTES - SENDGRID_MARGIN_BYTES:
            raise _too_big(
                "SendGrid accepts 30 MB per email including the base64 encoding of its files "
                "(about 22 MB of files)."
            )
    elif channel == ChannelKind.SMS and is_mms_capable(sms_to):
        if len(files) > TWILIO_MMS_MAX_FILES or total > TWILIO_MMS_MAX_BYTES:
            raise _too_big("Twilio MMS carries at most 10 files and 5 MB in total.")
    elif channel == ChannelKind.WHATSAPP:
        _check_whatsapp(files, total)
    elif channel in (ChannelKind.FACEBOOK, ChannelKind.INSTAGRAM):
        if any(f.size > META_MAX_BYTES for f in files):
            raise _too_big("Meta's Send API accepts files up to 25 MB each.")
        if channel == ChannelKind.INSTAGRAM and not all(
            f.content_type.startswith(INSTAGRAM_TYPE_PREFIXES) for f in files
        ):
            raise _too_big("Instagram messages carry images, video or audio only.")


def _check_whatsapp(files: list[OutgoingFile], total: int) -> None:
    unsupported = [f.filename for f in files if f.content_type not in WHATSAPP_TYPES]
    if unsupported:
        raise _too_big(
            f"WhatsApp does not accept {', '.join(unsupported)}: images (JPEG, PNG, WebP), "
            "audio, MP4 video, PDF, Office documents and vCards only."
        )
    if any(
        f.content_type.startswith("image/") and f.size > WHATSAPP_IMAGE_MAX_BYTES for f in files
    ):
        raise _too_big("WhatsApp images are limited to 5 MB.")
    if total > WHATSAPP_MAX_BYTES:
        raise _too_big("WhatsApp media is limited to 16 MB per message.")
