"""Client addresses and fixed-window rate limits, shared by the middleware and the public views."""

import ipaddress
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address (None when unknown). Behind TRUSTED_PROXY_COUNT proxies (nginx = 1) it
    is the entry that many hops from the right of X-Forwarded-For: entries further left are
    client-controlled. Also django-axes' AXES_CLIENT_IP_CALLABLE, so lockouts agree."""
    return _client_address(
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR", ""),
        remote_addr=request.META.get("REMOTE_ADDR", ""),
    )


def scope_client_ip(scope: dict) -> str | None:
    """`client_ip` for an ASGI (WebSocket) scope."""
    headers = dict(scope.get("headers") or [])
    client = scope.get("client") or ("", 0)
    return _client_address(
        forwarded_for=headers.get(b"x-forwarded-for", b"").decode("latin-1"),
        remote_addr=str(client[0] or ""),
    )


def _client_address(*, forwarded_for: str, remote_addr: str) -> str | None:
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [h.strip() for h in forwarded_for.split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies and _is_ip(hops[-proxies]):
            return hops[-proxies]
    return remote_addr if _is_ip(remote_addr) else None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def parse_rate(rate: str) -> tuple[int, int]:
    """ "30/minute" -> (30, 60). The period's first letter counts: s, m, h, d."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip()[0].lower()]


def rate_limited(*, key: str, rate: str) -> bool:
    """Fixed-window counter in the cache (Redis in production, shared by all processes)."""
    limit, seconds = parse_rate(rate)
    window = int(time.time() // seconds)
    cache_key = f"ratelimit:{key}:{window}"
    cache.add(cache_key, 0, timeout=seconds + 5)
    try:
        return cache.incr(cache_key) > limit
    except ValueError:  # expired between add and incr: this is the first hit of a new window
        cache.add(cache_key, 1, timeout=seconds + 5)
        return False


class TokenBucket:
    """An in-memory token bucket: `rate` tokens a second, at most `burst` saved up.

    For state that belongs to one object in one process (a WebSocket connection); limits shared
    by processes use `rate_limited` above.
    """

    def __init__(self, *, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated_at = time.monotonic()

    def take(self) -> bool:
        """Spend one token if there is one."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated_at) * self.rate)
        self.updated_at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
