"""Receivers of Django's login signals; each calls one audit service and nothing else."""

from django.http import HttpRequest

from accounts.audit import record_login


def audit_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    record_login(request=request, user=user, succeeded=True)


def audit_login_failed(sender, credentials: dict, request: HttpRequest | None = None, **kwargs):
    record_login(request=request, username=credentials.get("username", ""), succeeded=False)
