import hashlib
import io

import factory
import pypdfium2
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.text import get_valid_filename
from PIL import Image

from accounts.tests.factories import UserFactory
from tickets.models import (
    Attachment,
    AttachmentState,
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


# Files -------------------------------------------------------------------------------------------


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=fmt)
    return out.getvalue()


def pdf_bytes(width: float = 595, height: float = 842) -> bytes:
    document = pypdfium2.PdfDocument.new()
    document.new_page(width, height)
    out = io.BytesIO()
    document.save(out)
    document.close()
    return out.getvalue()


class AttachmentFactory(factory.django.DjangoModelFactory):
    """A stored file on an inbound message; pass `data` (bytes) and `content_type`."""

    class Meta:
        model = Attachment

    class Params:
        data = factory.LazyFunction(image_bytes)

    message = factory.SubFactory(TicketMessageFactory)
    ticket = factory.SelfAttribute("message.ticket")
    filename = "artwork.jpg"
    content_type = "image/jpeg"
    state = AttachmentState.STORED
    size = factory.LazyAttribute(lambda o: len(o.data))
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.data).hexdigest())
    storage_key = factory.LazyAttribute(
        lambda o: default_storage.save(
            f"attachments/test/{get_valid_filename(o.filename)}", ContentFile(o.data)
        )
    )
    stored_at = factory.LazyFunction(timezone.now)
