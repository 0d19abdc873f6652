from django.apps import AppConfig


class CommsConfig(AppConfig):
    name = "comms"

    def ready(self) -> None:
        from comms import subscribers

        subscribers.register()
