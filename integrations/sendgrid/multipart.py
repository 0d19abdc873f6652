"""A multipart/form-data reader for Inbound Parse that never holds a part in memory whole.

`request.POST` keeps every non-file field in memory and refuses more than
DATA_UPLOAD_MAX_MEMORY_SIZE of them in total (5 MB), but Parse posts a mail's whole text and HTML
bodies as such fields in requests of up to 30 MB. This reader drives Django's own part parser
(the one behind `request.POST`) over the spooled request body and spools each part, field or
file, to a temporary file (in memory up to FILE_UPLOAD_MAX_MEMORY_SIZE). The request size limit
stays with `BodySizeLimitMiddleware` (REQUEST_BODY_LIMITS, 30 MB for this path).
"""

import tempfile
from dataclasses import dataclass
from functools import partial
from typing import IO, BinaryIO

from django.conf import settings
from django.http import HttpRequest
from django.http.multipartparser import (
    FIELD,
    FILE,
    ChunkIter,
    LazyStream,
    MultiPartParser,
    MultiPartParserError,
    Parser,
    exhaust,
)
from django.utils.http import parse_header_parameters

from integrations.payloads import MalformedPayload

CHUNK_SIZE = 64 * 1024


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str
    file: IO[bytes]
    size: int

    def read_text(self, *, charset: str | None, max_chars: int) -> tuple[str, bool]:
        """The part decoded in its charset, cut at `max_chars`, and whether it was cut."""
        self.file.seek(0)
        data = self.file.read(max_chars * 4)  # UTF-8 needs at most 4 bytes a character
        try:
            text = data.decode(charset or "utf-8", "replace")
        except (LookupError, ValueError):  # an unknown charset name, or one with a NUL in it
            text = data.decode("utf-8", "replace")
        return text[:max_chars], len(text) > max_chars or self.size > len(data)


def _spool() -> IO[bytes]:
    """A temporary file, in memory while small; the caller closes it."""
    return tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)


def spool_request_body(request: HttpRequest) -> IO[bytes]:
    """The request body copied to a temporary file in chunks, exactly as received."""
    spool = _spool()
    for chunk in iter(partial(request.read, CHUNK_SIZE), b""):
        spool.write(chunk)
    spool.seek(0)
    return spool


def read_parts(raw: BinaryIO, content_type: str) -> list[Part]:
    """Every named part of a multipart/form-data body; MalformedPayload when it is not one."""
    media_type, options = parse_header_parameters(content_type)
    boundary = options.get("boundary", "")
    if media_type != "multipart/form-data" or not MultiPartParser.boundary_re.fullmatch(boundary):
        raise MalformedPayload("Body must be multipart/form-data with a boundary.")
    limit = (settings.DATA_UPLOAD_MAX_NUMBER_FIELDS or 1000) + (
        settings.DATA_UPLOAD_MAX_NUMBER_FILES or 100
    )
    parts: list[Part] = []
    stream = LazyStream(ChunkIter(raw, CHUNK_SIZE))
    try:
        for item_type, meta, part_stream in Parser(stream, boundary.encode("ascii")):
            # Django's part parser gives header parameters as UTF-8 bytes.
            disposition = meta.get("content-disposition", ("", {}))[1]
            name = disposition.get("name", b"").decode("utf-8", "replace").strip()
            if item_type not in (FIELD, FILE) or not name:
                exhaust(part_stream)
                continue
            if len(parts) == limit:
                raise MalformedPayload(f"More than {limit} form parts.")
            spool = _spool()
            size = 0
            for chunk in part_stream:
                spool.write(chunk)
                size += len(chunk)
            spool.seek(0)
            filename = None
            if item_type == FILE:
                filename = disposition.get("filename", b"").decode("utf-8", "replace")
            content_type = meta.get("content-type", ("", {}))[0].strip()
            parts.append(Part(name, filename, content_type, spool, size))
    except MultiPartParserError as exc:
        raise MalformedPayload(f"Unreadable multipart body: {exc}") from exc
    return parts
