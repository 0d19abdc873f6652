import factory

from integrations.models import Provider, WebhookEvent


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    provider = Provider.TWILIO
    kind = "message"
    event_id = factory.Sequence(lambda n: f"SM{n:032d}")
    is_verified = True
