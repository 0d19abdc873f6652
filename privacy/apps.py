from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy requests"

    def ready(self) -> None:
        from privacy import subscribers

        subscribers.register()
