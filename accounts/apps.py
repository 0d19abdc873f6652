from django.apps import AppConfig, apps
from django.contrib.admin import apps as admin_apps
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_migrate


def _complete_admin_role(sender, using, **kwargs) -> None:
    # Runs after Django's own post_migrate handler has created the permissions of new models.
    from accounts.roles import grant_admin_every_printdesk_permission, is_printdesk_app

    labels = [config.label for config in apps.get_app_configs() if is_printdesk_app(config)]
    grant_admin_every_printdesk_permission(app_labels=labels)


class AccountsConfig(AppConfig):
    default = True
    name = "accounts"
    verbose_name = "Staff accounts"

    def ready(self) -> None:
        from accounts import signals

        post_migrate.connect(_complete_admin_role, dispatch_uid="accounts.complete_admin_role")
        # The one sanctioned signal use (docs/security.md): Django's own login and the
        # authenticate() calls of every entry point (login page, JWT obtain, admin) report
        # success and failure only through these signals.
        user_logged_in.connect(signals.audit_login, dispatch_uid="accounts.audit_login")
        user_login_failed.connect(
            signals.audit_login_failed, dispatch_uid="accounts.audit_login_failed"
        )


class PrintdeskAdminConfig(admin_apps.AdminConfig):
    """`django.contrib.admin` with Printdesk's site as `admin.site` (2FA login, audited changes)."""

    default = False
    default_site = "accounts.admin_site.PrintdeskAdminSite"
