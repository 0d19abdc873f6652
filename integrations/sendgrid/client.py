"""SendGrid Mail Send v3 through the official SDK."""

import base64
import urllib.error

from django.conf import settings
from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    Attachment,
    CustomArg,
    Disposition,
    FileContent,
    FileName,
    FileType,
    Header,
    Mail,
)

from integrations.clients import (
    TIMEOUT_SECONDS,
    OutboundRequest,
    ProviderUnavailable,
    SendResult,
    error_for_status,
)

# Echoed back on every Event Webhook event, so status updates find the message directly.
MESSAGE_ID_ARG = "pd_message_id"


def is_configured() -> bool:
    return bool(settings.SENDGRID_API_KEY)


class SendGridClient:
    provider = "sendgrid"

    def __init__(self, *, api_key: str, base_url: str, from_email: str) -> None:
        self.client = SendGridAPIClient(api_key, host=base_url.rstrip("/"))
        self.client.client.timeout = TIMEOUT_SECONDS
        self.from_email = from_email

    @classmethod
    def from_settings(cls, *, sender: str = "") -> "SendGridClient":
        return cls(
            api_key=settings.SENDGRID_API_KEY,
            base_url=settings.SENDGRID_API_URL,
            from_email=sender or settings.SENDGRID_FROM_EMAIL,
        )

    def build_mail(self, request: OutboundRequest, *, html: str = "") -> Mail:
        mail = Mail(
            from_email=self.from_email,
            to_emails=request.to,
            subject=request.subject,
            plain_text_content=request.body or " ",
            html_content=html or None,
        )
        for name, value in request.headers.items():
            if value:
                mail.header = Header(name, value)
        if request.message_id:
            mail.custom_arg = CustomArg(MESSAGE_ID_ARG, str(request.message_id))
        for file in request.files:
            # Mail Send v3: base64 content, shown as a download (SendGrid limits the mail to 30 MB).
            mail.add_attachment(
                Attachment(
                    FileContent(base64.b64encode(file.read()).decode("ascii")),
                    FileName(file.filename),
                    FileType(file.content_type or "application/octet-stream"),
                    Disposition("attachment"),
                )
            )
        return mail

    def send(self, request: OutboundRequest, *, html: str = "") -> SendResult:
        try:
            response = self.client.send(self.build_mail(request, html=html))
        except HTTPError as exc:
            body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else exc.body
            raise error_for_status(exc.status_code, f"SendGrid: {body}"[:2000]) from exc
        except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
            raise ProviderUnavailable(f"SendGrid unreachable: {exc}", code="unreachable") from exc
        message_id = response.headers.get("X-Message-Id", "") or f"sendgrid-{request.message_id}"
        return SendResult(provider=self.provider, provider_message_id=message_id, status="sent")
