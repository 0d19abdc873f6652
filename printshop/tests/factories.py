import io
import secrets
from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import RectangleObject

from accounts.tests.factories import UserFactory
from printshop.models import OrderSource, Proof, ProofSource, TicketOrder
from tickets.tests.factories import TicketFactory

MM = 72 / 25.4


def make_pdf(*, width_mm: float, height_mm: float, bleed_mm: float | None = None) -> bytes:
    """A blank one-page PDF; with `bleed_mm`, the page grows by it and a TrimBox marks the trim."""
    writer = PdfWriter()
    bleed = (bleed_mm or 0) * MM
    page = writer.add_blank_page(width=width_mm * MM + 2 * bleed, height=height_mm * MM + 2 * bleed)
    if bleed_mm is not None:
        page.trimbox = RectangleObject(
            [bleed, bleed, bleed + width_mm * MM, bleed + height_mm * MM]
        )
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_image(*, width: int, height: int, mode: str = "RGB", fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), "white").save(buffer, fmt)
    return buffer.getvalue()


class TicketOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketOrder

    ticket = factory.SubFactory(TicketFactory)
    number = factory.Sequence(lambda n: f"PD-ORD-{20000 + n}")
    source = OrderSource.PERP


class ProofFactory(factory.django.DjangoModelFactory):
    """A sent, pending PNG proof (version 1 of its own line) unless told otherwise."""

    class Meta:
        model = Proof

    ticket = factory.SubFactory(TicketFactory)
    order_number = ""
    order_line = factory.Sequence(lambda n: f"line-{n}")
    line_key = factory.LazyAttribute(lambda p: f"ticket:{p.ticket.pk}:{p.order_line}")
    version = 1
    token = factory.LazyFunction(lambda: secrets.token_urlsafe(32))
    source = ProofSource.UPLOAD
    file = factory.LazyFunction(
        lambda: ContentFile(make_image(width=40, height=30), name="proof.png")
    )
    file_name = "proof.png"
    content_type = "image/png"
    file_size = 100
    created_by = factory.SubFactory(UserFactory)
    sent_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))
