"""What every outbound provider client shares: the request, the result and the typed errors.

Clients never touch the database: the router reads the message, builds an `OutboundRequest`,
and records the `SendResult` (or the error) through the tickets services.
"""

import http.client
import logging
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10


class ProviderError(Exception):
    def __init__(
        self, message: str, *, code: str = "", status: int | None = None, subcode: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.subcode = subcode  # the provider's finer code (Meta's error_subcode)


class ProviderUnavailable(ProviderError):
    """Retryable: timeouts, connection errors, 429 and 5xx."""


class ProviderRejected(ProviderError):
    """Not retryable: the provider refused the request (4xx validation, auth, unknown recipient)."""


@dataclass(frozen=True)
class OutboundFile:
    filename: str
    content_type: str
    size: int
    media_url: str  # public, short-lived: the provider fetches it (Twilio MMS/WhatsApp)
    link_url: str  # public, longer-lived: for a customer to open (SMS without MMS)
    read: Callable[[], bytes]  # the bytes, for providers that take an upload


@dataclass(frozen=True)
class OutboundRequest:
    message_id: int
    channel: str
    to: str
    body: str
    subject: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    files: tuple[OutboundFile, ...] = ()
    # Meta's Send API: RESPONSE inside the 24-hour window, MESSAGE_TAG + HUMAN_AGENT after it
    # (the outbound policy decides, `tickets/policy.py`).
    messaging_type: str = ""
    tag: str = ""
    # A WhatsApp template (Twilio Content API): sent instead of the body.
    content_sid: str = ""
    content_variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    provider: str
    provider_message_id: str
    status: str  # a DeliveryStatus value
    is_sandbox: bool = False


def may_have_arrived(exc: ProviderError) -> bool:
    """Whether a send that got no answer may still have reached the provider: the failure came
    after the request was written (a read timeout, a connection reset or closed before the
    response). Then a blind retry could deliver it twice (Twilio and Meta have no idempotency
    key), so the router reconciles first. An HTTP answer (429, 5xx) or a failure while
    connecting (refused, DNS, connect timeout) means the provider never took it."""
    if exc.status is not None:
        return False
    cause = exc.__cause__
    if isinstance(cause, requests.ConnectTimeout):
        return False
    if isinstance(cause, requests.ConnectionError):
        reason = getattr(cause.args[0], "reason", None) if cause.args else None
        return not isinstance(reason, (NewConnectionError, ConnectTimeoutError))
    if isinstance(cause, urllib.error.URLError):
        return False  # urllib wraps what fails while connecting and writing the request
    # Raw from reading the response (urllib, SendGrid's SDK), or any other requests failure.
    return isinstance(
        cause, (TimeoutError, ConnectionError, http.client.HTTPException, requests.RequestException)
    )


def is_retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def error_for_status(status: int, message: str, *, code: str = "") -> ProviderError:
    kind = ProviderUnavailable if is_retryable_status(status) else ProviderRejected
    return kind(message, code=code or f"http_{status}", status=status)


class SandboxClient:
    """Stands in for a provider without credentials: the send is recorded, never dropped."""

    provider = "sandbox"

    def __init__(self, *, provider: str) -> None:
        self.for_provider = provider

    def send(self, request: OutboundRequest) -> SendResult:
        logger.info(
            "outbound.sandbox_delivered message=%s channel=%s provider=%s to=%s",
            request.message_id,
            request.channel,
            self.for_provider,
            request.to,
        )
        return SendResult(
            provider="sandbox",
            provider_message_id=f"sandbox-{request.message_id}",
            status="delivered",
            is_sandbox=True,
        )
