from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "knowledge"

    def ready(self) -> None:
        from core.events import subscribe
        from integrations.events import ShopifyBulkOperationFinished
        from knowledge.tasks import on_bulk_operation_finished

        subscribe(ShopifyBulkOperationFinished, on_bulk_operation_finished)
