from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _complete_admin_role(sender, using, **kwargs) -> None:
    # Runs after Django's own post_migrate handler has created the permissions of new models.
    from accounts.roles import grant_admin_every_printdesk_permission, is_printdesk_app

    labels = [config.label for config in apps.get_app_configs() if is_printdesk_app(config)]
    grant_admin_every_printdesk_permission(app_labels=labels)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Staff accounts"

    def ready(self) -> None:
        post_migrate.connect(_complete_admin_role, dispatch_uid="accounts.complete_admin_role")
