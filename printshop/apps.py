from django.apps import AppConfig


class PrintshopConfig(AppConfig):
    name = "printshop"
    verbose_name = "Print shop"

    def ready(self) -> None:
        from printshop import subscribers

        subscribers.register()
