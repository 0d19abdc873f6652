"""API rate limit per token: DRF throttle keyed on the API token (or the user, for session and JWT
callers). The rate comes from settings.API_RATE_LIMIT at request time ("1200/minute"; empty =
off), so tests can lower it with `settings`. Anonymous calls are not counted here: the API refuses
them, and the public endpoints (webhooks, token obtain) have their own limits."""

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class ApiTokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self) -> str | None:
        return settings.API_RATE_LIMIT or None

    def get_cache_key(self, request: Request, view) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        token_id = getattr(request.auth, "pk", None)
        ident = f"token:{token_id}" if token_id is not None else f"user:{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
