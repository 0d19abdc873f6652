"""Authentication backends."""

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class ThrottledLoginBackend(AxesStandaloneBackend):
    """django-axes lockout check for every login that arrives over HTTP.

    Throttling is per username+IP, so it needs a request. Authentication without one (the test
    client's `login()`, management commands) cannot be brute-forced from outside and is left to
    the next backend instead of failing.
    """

    def authenticate(self, request: HttpRequest | None, *args, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)
