import factory

from accounts.tests.factories import UserFactory
from comms.markup import render_markup
from comms.models import Channel, ChannelKind, ChannelMember, ChannelMessage, Notification


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Channel {n}")
    slug = factory.Sequence(lambda n: f"channel-{n}")
    kind = ChannelKind.PUBLIC


class ChannelMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelMember

    channel = factory.SubFactory(ChannelFactory)
    user = factory.SubFactory(UserFactory)


class ChannelMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelMessage

    channel = factory.SubFactory(ChannelFactory)
    author = factory.SubFactory(UserFactory)
    body = factory.Faker("sentence")
    # Stored rendered on write, as `post_message` does: the page shows only `body_html`.
    body_html = factory.LazyAttribute(lambda message: render_markup(message.body))


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    kind = "system"
    title = factory.Faker("sentence", nb_words=4)
