from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "automation"
    verbose_name = "Automation and SLAs"

    def ready(self) -> None:
        from automation import subscribers

        subscribers.register()
