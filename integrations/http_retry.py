"""The base of every provider client that speaks HTTP itself (PERP, Shopify, Meta Graph, outbound
webhooks): a pooled session, a base URL from settings, a timeout on every call, typed errors, and
retry-with-backoff on idempotent calls.

Only idempotent calls retry, and only on what a later attempt can fix: timeouts, connection
errors, 429 and 5xx, waiting what the provider's `Retry-After` asks when it says. Sends are not
retried here: they retry in their task (`core.tasks.Backoff`). The delay function is injectable
so tests never sleep. Twilio and SendGrid go through their SDKs, which own their transport.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.utils import timezone

from core.tasks import Backoff
from integrations.clients import ProviderError, ProviderUnavailable, is_retryable_status

# A provider asking for a longer pause than this gets no in-call retry: the caller reports it
# unavailable and the task retries later instead of holding a worker.
MAX_RETRY_AFTER_SECONDS = 30.0


class CodedProviderError(ProviderError):
    """A provider error whose `code` comes from its class (`default_code`)."""

    default_code = "provider_error"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message, code=self.default_code, status=status)


class ProviderNotConfigured(CodedProviderError):
    default_code = "not_configured"


class ProviderUnreachable(CodedProviderError, ProviderUnavailable):
    """Retryable: no answer at all (timeout, connection refused) after the attempts."""

    default_code = "unreachable"


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


@dataclass
class RetryPolicy:
    """In-call retries: `attempts` in all, waiting `backoff_seconds` doubled after each failure."""

    attempts: int = 3
    backoff_seconds: float = 0.5
    sleep: Callable[[float], None] | None = field(default=None, repr=False)

    def pause(self, seconds: float) -> None:
        (self.sleep or _sleep)(seconds)

    def delay(self, attempt: int) -> float:
        """Exponential: 0.5 s, 1 s, 2 s, ... for attempt 1, 2, 3."""
        first = timedelta(seconds=self.backoff_seconds)
        backoff = Backoff(attempts=self.attempts, first_delay=first)
        return backoff.delay(attempt).total_seconds()


def retry_after_seconds(response: requests.Response) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date), None when absent or invalid."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - timezone.now()).total_seconds(), 0.0) if when.tzinfo else None


def new_session(headers: dict[str, str]) -> requests.Session:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update(headers)
    return session


def send_with_retry(
    send: Callable[[], requests.Response],
    *,
    policy: RetryPolicy,
    idempotent: bool,
    unavailable: type[CodedProviderError],
) -> requests.Response:
    """Call `send()`; retry transport errors (timeouts, refused connections) and 429/5xx when
    `idempotent`.

    Returns the last response (possibly still 429/5xx when attempts ran out or the provider asked
    for a longer pause than we wait in-call: the caller maps it) or raises `unavailable` when the
    last attempt failed at the transport level.
    """
    attempts = policy.attempts if idempotent else 1
    for attempt in range(1, attempts + 1):
        wait = policy.delay(attempt)
        try:
            response = send()
        except requests.RequestException as exc:
            if attempt == attempts:
                what = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
                raise unavailable(
                    f"No answer after {attempts} attempts ({what}; {type(exc).__name__}: {exc})."
                ) from exc
        else:
            if not is_retryable_status(response.status_code) or attempt == attempts:
                return response
            asked = retry_after_seconds(response)
            if asked is not None:
                if asked > MAX_RETRY_AFTER_SECONDS:
                    return response
                wait = max(wait, asked)
        policy.pause(wait)
    raise AssertionError("unreachable: the loop returns or raises on the last attempt")


class ProviderHttpClient:
    """What a provider client built on `requests` inherits.

    A subclass sets `unavailable` (its retryable error type) and a default `timeout`, and builds
    itself `from_settings()` with the provider's base URL setting; `request()` puts the timeout
    on every call and retries only when the call says it is idempotent.
    """

    timeout: tuple[float, float] = (3.05, 10)
    unavailable: type[CodedProviderError] = ProviderUnreachable

    def __init__(
        self,
        *,
        base_url: str = "",
        headers: dict[str, str] | None = None,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.timeout = timeout or self.timeout
        self.session = new_session(headers or {})

    def request(
        self, method: str, path: str, *, idempotent: bool, **kwargs: Any
    ) -> requests.Response:
        """`path` goes after the base URL; an absolute URL (a webhook endpoint) is used as is."""
        url = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        send = getattr(self.session, method.lower())  # session.get, session.post, ...
        return send_with_retry(
            lambda: send(url, timeout=self.timeout, **kwargs),
            policy=self.retry,
            idempotent=idempotent,
            unavailable=self.unavailable,
        )
