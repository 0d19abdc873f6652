"""Deployment checks of our own (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_proxy_settings(app_configs, **kwargs) -> list[Warning]:
    """Trusting the proxy's HTTPS header means a proxy is in front; without TRUSTED_PROXY_COUNT
    every client then has the proxy's address, and the per-address limits (sign-in, token
    obtain, public pages) become one limit shared by everybody."""
    if settings.SECURE_PROXY_SSL_HEADER and settings.TRUSTED_PROXY_COUNT == 0:
        return [
            Warning(
                "SECURE_PROXY_SSL_HEADER trusts a reverse proxy but TRUSTED_PROXY_COUNT is 0: "
                "client addresses would all be the proxy's.",
                hint="Set TRUSTED_PROXY_COUNT=1 behind nginx (docs/deploy.md), or empty "
                "DJANGO_SECURE_PROXY_SSL_HEADER when no proxy is in front.",
                id="helpdesk.W001",
            )
        ]
    return []
