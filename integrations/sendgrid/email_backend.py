"""Django EMAIL_BACKEND: Django's own mail (password resets, notifications) through SendGrid.

Without `SENDGRID_API_KEY` it runs in sandbox mode: each message is logged and written as a
.eml file under `EMAIL_FILE_PATH` (default MEDIA_ROOT/sandbox-mail), never silently dropped.
"""

import logging
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend
from django.core.mail.message import EmailMessage

from integrations.clients import OutboundRequest, ProviderError
from integrations.sendgrid.client import SendGridClient, is_configured

logger = logging.getLogger(__name__)


def sandbox_mail_dir() -> Path:
    return Path(
        getattr(settings, "EMAIL_FILE_PATH", "") or Path(settings.MEDIA_ROOT) / "sandbox-mail"
    )


class SendGridEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        if not email_messages:
            return 0
        if not is_configured():
            return self._send_to_sandbox(email_messages)
        client = SendGridClient.from_settings()
        sent = 0
        for message in email_messages:
            html = next(
                (
                    content
                    for content, mimetype in getattr(message, "alternatives", [])
                    if mimetype == "text/html"
                ),
                "",
            )
            for recipient in message.recipients():
                request = OutboundRequest(
                    message_id=0,
                    channel="email",
                    to=recipient,
                    body=message.body,
                    subject=message.subject,
                    headers={k: str(v) for k, v in message.extra_headers.items()},
                )
                try:
                    client.send(request, html=html)
                except ProviderError:
                    logger.exception("sendgrid.email.failed to=%s", recipient)
                    if not self.fail_silently:
                        raise
                    continue
            sent += 1
        return sent

    def _send_to_sandbox(self, email_messages: list[EmailMessage]) -> int:
        path = sandbox_mail_dir()
        path.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            logger.info(
                "sendgrid.email.sandbox to=%s subject=%r dir=%s",
                ",".join(message.recipients()),
                message.subject,
                path,
            )
        return FileEmailBackend(
            file_path=str(path), fail_silently=self.fail_silently
        ).send_messages(email_messages)
