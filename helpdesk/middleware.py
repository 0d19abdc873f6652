"""Request-level hardening: request ids and access log lines, body size limits, and rate limits
for the public (unauthenticated) endpoints. Settings: REQUEST_BODY_LIMITS, PUBLIC_RATE_LIMITS,
TRUSTED_PROXY_COUNT (docs/deploy.md)."""

import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from core.ratelimit import client_ip, parse_rate, rate_limited
from helpdesk.logging import request_id_var

logger = logging.getLogger("helpdesk.request")

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id (from nginx's $request_id or a caller) is kept when it looks like an id; anything
# else (too long, spaces, control characters) is replaced so it cannot forge log lines.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def _error(request: HttpRequest, *, status: int, detail: str, code: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail, "code": code}, status=status)
    return render(request, "http_error.html", {"status": status, "detail": detail}, status=status)


class RequestIdMiddleware:
    """First in the stack: every response carries X-Request-ID and every log line the id; one
    access line per request goes to the `helpdesk.request` logger."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            user = getattr(request, "user", None)
            logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": user.pk if user is not None and user.is_authenticated else None,
                    "client_ip": client_ip(request),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


@dataclass(frozen=True)
class _Limit:
    prefix: str
    max_bytes: int


class BodySizeLimitMiddleware:
    """Refuses an over-long request body with 413 before any view (or anything that stores) runs.

    REQUEST_BODY_LIMITS maps path prefixes to byte limits; the longest matching prefix wins. The
    declared Content-Length is checked first; a body without one (chunked, ASGI) is measured.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = self._limit_for(request.path)
        if (
            limit is not None
            and request.method in {"POST", "PUT", "PATCH"}
            and self._too_large(request, limit.max_bytes)
        ):
            logger.warning(
                "request body over the limit for %s",
                limit.prefix,
                extra={"path": request.path, "limit_bytes": limit.max_bytes},
            )
            return _error(
                request,
                status=413,
                detail=f"Request body too large (limit {limit.max_bytes} bytes).",
                code="payload_too_large",
            )
        return self.get_response(request)

    @staticmethod
    def _limit_for(path: str) -> _Limit | None:
        matches = [
            _Limit(prefix, size)
            for prefix, size in settings.REQUEST_BODY_LIMITS.items()
            if path.startswith(prefix)
        ]
        return max(matches, key=lambda m: len(m.prefix), default=None)

    @staticmethod
    def _too_large(request: HttpRequest, max_bytes: int) -> bool:
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            try:
                return int(declared) > max_bytes
            except ValueError:
                return True
        return len(request.body) > max_bytes


class PublicRateLimitMiddleware:
    """Per-client-address limits on unauthenticated endpoints (sign-in, token obtain, public
    proof pages, password reset): PUBLIC_RATE_LIMITS is a list of
    {"prefix", "methods", "rate"}; over the rate answers 429 with Retry-After."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for rule in settings.PUBLIC_RATE_LIMITS:
            if request.method in rule["methods"] and request.path.startswith(rule["prefix"]):
                key = f"{rule['prefix']}:{client_ip(request)}"
                if rate_limited(key=key, rate=rule["rate"]):
                    response = _error(
                        request,
                        status=429,
                        detail="Too many requests; try again in a minute.",
                        code="throttled",
                    )
                    response["Retry-After"] = str(parse_rate(rule["rate"])[1])
                    return response
                break
        return self.get_response(request)
