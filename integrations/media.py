"""Downloading customers' files from the providers' links (Twilio media, Meta CDN).

Runs in a task (`integrations.tasks.fetch_inbound_media`) when tickets announce
`AttachmentFetchRequested`. Twilio media needs HTTP basic auth with the account SID and auth
token and redirects to a short-lived signed URL on its CDN; the credentials are sent only to the
Twilio API host itself. Meta links are public but expire, so they are fetched at once. Every hop
goes through `core.media_fetch` (allow-list, no private addresses, size cap, timeouts).
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings

from core.media_fetch import AllowList, FetchFailed, fetch
from core.tasks import Backoff
from tickets.attachments import (
    get_pending_attachment,
    mark_fetch_failed,
    record_fetch_attempt,
    store_fetched_file,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchOutcome:
    status: str  # stored | failed | skipped | retry
    retry_in: timedelta | None = None


def allowed_hosts() -> AllowList:
    return AllowList.parse(settings.MEDIA_FETCH_ALLOWED_HOSTS)


def credentials_for(url: str, *, provider: str) -> tuple[str, str] | None:
    """Twilio's basic auth, only for a link on the Twilio API host we are configured for."""
    if provider != "twilio" or not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
        return None
    ours, theirs = urlsplit(settings.TWILIO_API_URL), urlsplit(url)
    if (ours.hostname, ours.port) != (theirs.hostname, theirs.port):
        return None
    return (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)


def fetch_backoff() -> Backoff:
    return Backoff(
        attempts=settings.MEDIA_FETCH_MAX_ATTEMPTS,
        first_delay=timedelta(seconds=settings.MEDIA_FETCH_RETRY_SECONDS),
    )


def fetch_attachment(*, attachment_id: int) -> FetchOutcome:
    """One download attempt; no transaction or row lock is held during the HTTP call."""
    attachment = get_pending_attachment(attachment_id=attachment_id)
    if attachment is None:
        return FetchOutcome(status="skipped")
    attempt = record_fetch_attempt(attachment_id=attachment_id).fetch_attempts
    try:
        fetched = fetch(
            attachment.source_url,
            allowed=allowed_hosts(),
            max_bytes=settings.MEDIA_FETCH_MAX_BYTES,
            auth=credentials_for(attachment.source_url, provider=attachment.provider),
            declared_type=attachment.declared_type,
        )
    except FetchFailed as exc:
        retry_in = fetch_backoff().retry_in(attempt, is_retryable=exc.is_retryable)
        if retry_in is not None:
            logger.info(
                "media.fetch_retry attachment=%s attempt=%s %s", attachment_id, attempt, exc
            )
            return FetchOutcome(status="retry", retry_in=retry_in)
        logger.warning("media.fetch_failed attachment=%s code=%s %s", attachment_id, exc.code, exc)
        mark_fetch_failed(attachment_id=attachment_id, error=str(exc))
        return FetchOutcome(status="failed")
    with fetched.file:
        store_fetched_file(attachment_id=attachment_id, handle=fetched.file, digest=fetched.digest)
    return FetchOutcome(status="stored")
