from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = "Privacy requests"

    def ready(self) -> None:
        from core.events import subscribe
        from integrations import events
        from privacy import subscribers

        subscribe(events.ShopifyCustomerDataRequested, subscribers.on_data_request)
        subscribe(events.ShopifyCustomerRedactRequested, subscribers.on_customer_redact)
        subscribe(events.ShopifyShopRedactRequested, subscribers.on_shop_redact)
