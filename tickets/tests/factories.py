import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from tickets.models import (
    ChannelKind,
    Customer,
    CustomerIdentity,
    DeliveryStatus,
    IdentityKind,
    InternalNote,
    MessageDirection,
    Ticket,
    TicketAssignment,
    TicketMessage,
    reference_for,
)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Faker("name")


class CustomerIdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerIdentity

    customer = factory.SubFactory(CustomerFactory)
    kind = IdentityKind.EMAIL
    value = factory.Sequence(lambda n: f"customer{n}@example.com")
    is_primary = True


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket
        skip_postgeneration_save = True

    subject = factory.Faker("sentence", nb_words=6)
    customer = factory.SubFactory(CustomerFactory)
    channel = ChannelKind.EMAIL

    @factory.post_generation
    def with_reference(self, create: bool, extracted, **kwargs) -> None:
        if create and not self.reference:
            self.reference = reference_for(self.pk)
            Ticket.objects.filter(pk=self.pk).update(reference=self.reference)


class TicketMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketMessage

    ticket = factory.SubFactory(TicketFactory)
    direction = MessageDirection.INBOUND
    channel = factory.SelfAttribute("ticket.channel")
    body = factory.Faker("paragraph")


class OutboundMessageFactory(TicketMessageFactory):
    direction = MessageDirection.OUTBOUND
    author = factory.SubFactory(UserFactory)
    delivery_status = DeliveryStatus.SENT
    sent_at = factory.LazyFunction(timezone.now)


class InternalNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InternalNote

    ticket = factory.SubFactory(TicketFactory)
    author = factory.SubFactory(UserFactory)
    body = factory.Faker("sentence")


class TicketAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketAssignment

    ticket = factory.SubFactory(TicketFactory)
    to_agent = factory.SubFactory(UserFactory)
