"""What the Shopify and PERP clients share: a pooled session and retry-with-backoff on reads.

Only idempotent calls retry, and only on what a later attempt can fix: timeouts, connection
errors, 429 and 5xx. The delay function is injectable so tests never sleep.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from integrations.clients import ProviderError, is_retryable_status


class CodedProviderError(ProviderError):
    """A provider error whose `code` comes from its class (`default_code`)."""

    default_code = "provider_error"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message, code=self.default_code, status=status)


class ProviderNotConfigured(CodedProviderError):
    default_code = "not_configured"


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


@dataclass
class RetryPolicy:
    attempts: int = 3
    backoff_seconds: float = 0.5
    sleep: Callable[[float], None] | None = field(default=None, repr=False)

    def pause(self, seconds: float) -> None:
        (self.sleep or _sleep)(seconds)

    def delay(self, attempt: int) -> float:
        """Exponential: 0.5 s, 1 s, 2 s, ... for attempt 1, 2, 3."""
        return self.backoff_seconds * (2 ** (attempt - 1))


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
    """Call `send()`; retry timeouts, connection errors and 429/5xx when `idempotent`.

    Returns the last response (possibly still 5xx when attempts ran out: the caller maps it) or
    raises `unavailable` when the last attempt failed at the transport level.
    """
    attempts = policy.attempts if idempotent else 1
    for attempt in range(1, attempts + 1):
        try:
            response = send()
        except (requests.Timeout, requests.ConnectionError) as exc:
            if attempt == attempts:
                what = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
                raise unavailable(f"No answer after {attempts} attempts ({what}).") from exc
        else:
            if not is_retryable_status(response.status_code) or attempt == attempts:
                return response
        policy.pause(policy.delay(attempt))
    raise AssertionError("unreachable: the loop returns or raises on the last attempt")
