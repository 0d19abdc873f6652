"""Serving ticket files: never from a public path.

`GET /attachments/<id>/` (session or API token) checks that the user may see the ticket, then
streams the file, or redirects to a short-lived signed URL when the storage is S3. Only PNG,
JPEG, GIF, WebP and PDF are shown inline; everything else downloads, always with `nosniff` and a
`sandbox` CSP (core.files). `GET /files/public/<token>/` is the time-limited link that Twilio
fetches for MMS/WhatsApp media; it needs no login but a signed, expiring token.
"""

import contextlib

from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from core.decorators import staff_page
from core.errors import Conflict, NotFound
from core.files import PNG, file_response, stored_file_response
from tickets import attachments, selectors
from tickets.models import Attachment


def serve_attachment(attachment: Attachment) -> HttpResponse:
    if not attachment.is_stored:
        raise NotFound("This file is not available.", code="attachment_unavailable")
    return stored_file_response(
        storage_key=attachment.storage_key,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )


class AttachmentDownloadApi(APIView):
    @extend_schema(
        operation_id="attachments_download",
        tags=["tickets"],
        summary="Download a file of a ticket (the `url` of a message's attachment)",
        responses={200: OpenApiResponse(description="The file"), 302: None, 404: None},
    )
    def get(self, request: Request, attachment_id: int) -> HttpResponse:
        attachment = selectors.get_attachment_for_user(
            user=request.user, attachment_id=attachment_id
        )
        return serve_attachment(attachment)


class AttachmentPreviewApi(APIView):
    @extend_schema(
        operation_id="attachments_preview",
        tags=["tickets"],
        summary="The PNG thumbnail of an image or of a PDF's first page",
        responses={200: OpenApiResponse(description="PNG"), 404: None},
    )
    def get(self, request: Request, attachment_id: int) -> HttpResponse:
        attachment = selectors.get_attachment_for_user(
            user=request.user, attachment_id=attachment_id
        )
        if not attachment.preview_key:
            raise NotFound("No preview yet.", code="no_preview")
        return file_response(
            default_storage.open(attachment.preview_key, "rb"),
            filename=f"{attachment.filename}.png",
            content_type=PNG,
        )


@staff_page
@require_POST
def attachment_retry(request: HttpRequest, attachment_id: int) -> HttpResponse:
    attachment = selectors.get_attachment_for_user(user=request.user, attachment_id=attachment_id)
    # Already downloading or stored: the page shows its state.
    with contextlib.suppress(Conflict):
        attachments.retry_attachment_fetch(attachment=attachment, actor=request.user)
    return redirect("tickets:detail", reference=attachment.ticket.reference)


@require_http_methods(["GET", "HEAD"])
def public_attachment(request: HttpRequest, token: str) -> HttpResponse:
    """For providers fetching our media: the exact sniffed type (Twilio compares the header with
    the file), still with nosniff, the sandbox CSP and `attachment` for unsafe types."""
    try:
        attachment = attachments.get_attachment_by_public_token(token=token)
    except NotFound:
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    response = file_response(
        attachments.open_attachment(attachment),
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["Content-Type"] = attachment.content_type or "application/octet-stream"
    response["Cache-Control"] = "private, no-store"
    return response
