import factory

from integrations.models import Provider, WebChatInbox, WebhookEvent


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    provider = Provider.TWILIO
    kind = "message"
    event_id = factory.Sequence(lambda n: f"SM{n:032d}")
    is_verified = True


class WebChatInboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebChatInbox

    key = factory.Sequence(lambda n: f"shop{n}")
    shop_name = "Printdesk Prints"
    allowed_domains = "shop.example.com\nlocalhost:8123"
    identity_secret = "theme-secret"
