"""Receivers of Django's login signals; each calls one audit service and nothing else."""

from django.http import HttpRequest

from accounts.audit import record_login
from accounts.two_factor import SESSION_VERIFIED_KEY


def audit_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    method = session.get(SESSION_VERIFIED_KEY, "") if session is not None else ""
    record_login(request=request, user=user, succeeded=True, two_factor_method=method)


def audit_login_failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs):
    record_login(request=request, username=credentials.get("username", ""), succeeded=False)
