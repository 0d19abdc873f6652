from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"

    def ready(self) -> None:
        from tickets import history, selectors

        history.register()
        selectors.register_staff_columns()
