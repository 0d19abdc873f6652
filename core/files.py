"""Files from outside: what their bytes really are, and how to hand them back without risk.

A file's type is read from its first bytes, never trusted from the sender's name or header: a
"logo.pdf" that is really HTML is HTML. Only a short list of types that browsers render without
running script is ever shown inline; everything else is downloaded, with `nosniff` and a
`sandbox` CSP so an HTML or SVG file can never run script on our origin.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse, HttpResponseRedirect

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
HTML = "text/html"
SVG = "image/svg+xml"
OCTET_STREAM = "application/octet-stream"

# Shown inline by the download view; nothing else ever is.
INLINE_SAFE_TYPES = frozenset({PNG, JPEG, GIF, WEBP, PDF})
IMAGE_TYPES = frozenset({PNG, JPEG, GIF, WEBP})
PREVIEWABLE_TYPES = IMAGE_TYPES | {PDF}

SNIFF_BYTES = 512
INLINE_VIEWER_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"

# (prefix, offset, content type), checked in order.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF-", 0, PDF),
    (b"\x89PNG\r\n\x1a\n", 0, PNG),
    (b"\xff\xd8\xff", 0, JPEG),
    (b"GIF87a", 0, GIF),
    (b"GIF89a", 0, GIF),
    (b"PK\x03\x04", 0, "application/zip"),
    (b"%!PS", 0, "application/postscript"),
    (b"II*\x00", 0, "image/tiff"),
    (b"MM\x00*", 0, "image/tiff"),
    (b"8BPS", 0, "image/vnd.adobe.photoshop"),
    (b"OggS", 0, "audio/ogg"),
    (b"ID3", 0, "audio/mpeg"),
    (b"#!AMR", 0, "audio/amr"),
    (b"BEGIN:VCARD", 0, "text/vcard"),
)
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<?xml")
# Office formats are zip files; their declared type is kept when the bytes are a zip.
_ZIP_BASED = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)
_TEXT_TYPES = frozenset({"text/plain", "text/csv"})


def sniff_content_type(head: bytes, *, declared: str = "") -> str:
    """The content type of a file from its first bytes (`SNIFF_BYTES` are enough).

    The declared type only refines a family the bytes already prove (an Office document is a
    zip); unknown bytes are `application/octet-stream`, never the sender's word.
    """
    declared = (declared or "").split(";")[0].strip().lower()
    if head[8:12] == b"WEBP" and head[:4] == b"RIFF":
        return WEBP
    if head[4:8] == b"ftyp":
        return "video/mp4"
    for prefix, offset, content_type in _SIGNATURES:
        if head[offset : offset + len(prefix)] == prefix:
            if content_type == "application/zip" and declared in _ZIP_BASED:
                return declared
            return content_type
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in lowered:
        return SVG
    if lowered.startswith(_HTML_MARKERS) or any(m in lowered for m in _HTML_MARKERS[:4]):
        return HTML
    if declared in _TEXT_TYPES and _is_text(head):
        return declared
    return OCTET_STREAM


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start >= len(head) - 3
    return b"\x00" not in head


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int
    content_type: str


def digest_chunks(chunks: Iterable[bytes], *, declared: str = "") -> Digest:
    """sha256, size and sniffed type of a file read once, in chunks."""
    sha = hashlib.sha256()
    size = 0
    head = b""
    for chunk in chunks:
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        sha.update(chunk)
        size += len(chunk)
    return Digest(
        sha256=sha.hexdigest(), size=size, content_type=sniff_content_type(head, declared=declared)
    )


def is_inline_safe(content_type: str) -> bool:
    return content_type in INLINE_SAFE_TYPES


def content_disposition(filename: str, *, inline: bool) -> str:
    """RFC 6266: an ASCII fallback name plus the exact UTF-8 name."""
    kind = "inline" if inline else "attachment"
    ascii_name = (
        filename.encode("ascii", "ignore").decode().replace('"', "").replace("\\", "") or "file"
    )
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def protect(response: HttpResponse, *, filename: str, content_type: str) -> HttpResponse:
    """The headers every served customer file carries."""
    inline = is_inline_safe(content_type)
    response["Content-Type"] = content_type if inline else OCTET_STREAM
    response["Content-Disposition"] = content_disposition(filename, inline=inline)
    response["X-Content-Type-Options"] = "nosniff"
    # Replaces the site CSP for this response (django-csp keeps a header already set): no script,
    # a unique origin. The browser's own image/PDF viewer styles its page inline, which a
    # sandboxed, script-less document may keep.
    response["Content-Security-Policy"] = (
        INLINE_VIEWER_CSP if inline else "sandbox; default-src 'none'"
    )
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, max-age=300"
    return response


def file_response(handle, *, filename: str, content_type: str) -> FileResponse:
    """Stream an open file with the protective headers."""
    response = FileResponse(handle)
    return protect(response, filename=filename, content_type=content_type)


def _signed_storage_url(*, storage_key: str, filename: str, content_type: str) -> str | None:
    """A short-lived URL straight to the object store, when the storage signs URLs (S3)."""
    if not getattr(default_storage, "querystring_auth", False):
        return None
    inline = is_inline_safe(content_type)
    return default_storage.url(
        storage_key,
        parameters={
            "ResponseContentDisposition": content_disposition(filename, inline=inline),
            "ResponseContentType": content_type if inline else OCTET_STREAM,
        },
    )


def stored_file_response(*, storage_key: str, filename: str, content_type: str) -> HttpResponse:
    """A stored file for a user already allowed to see it: a redirect to a short-lived signed
    URL when the storage is S3 (the bucket stays private), else streamed from local storage."""
    signed = _signed_storage_url(
        storage_key=storage_key, filename=filename, content_type=content_type
    )
    if signed:
        response = HttpResponseRedirect(signed)
        response["Cache-Control"] = "no-store"
        return response
    return file_response(
        default_storage.open(storage_key, "rb"), filename=filename, content_type=content_type
    )
