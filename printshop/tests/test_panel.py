"""The ticket's "Orders & proofs" panel: upload → preflight warnings → send, as forms and htmx."""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from accounts.tests.factories import UserFactory
from printshop.models import Proof
from printshop.tests.factories import ProofFactory, TicketOrderFactory, make_image, make_pdf
from tickets.models import IdentityKind, TicketStatus
from tickets.tests.factories import (
    AttachmentFactory,
    CustomerIdentityFactory,
    TicketFactory,
    TicketMessageFactory,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ticket():
    ticket = TicketFactory(status=TicketStatus.OPEN)
    CustomerIdentityFactory(customer=ticket.customer, kind=IdentityKind.EMAIL, value="a@b.example")
    return ticket


@pytest.fixture
def agent_client(client):
    client.force_login(UserFactory(role=Role.AGENT))
    return client


def panel_url(ticket, rest=""):
    return f"/tickets/{ticket.reference}/proofs/{rest}"


def test_panel_lists_orders_and_proofs(agent_client, ticket):
    TicketOrderFactory(ticket=ticket, number="PD-ORD-10042")
    ProofFactory(ticket=ticket, order_number="PD-ORD-10042", order_line="Cards")
    partial = agent_client.get(panel_url(ticket), **HTMX)
    assert partial.status_code == 200
    html = partial.content.decode()
    assert 'id="printshop-panel"' in html and "<html" not in html
    assert "PD-ORD-10042" in html and "v1" in html and "Waiting for the customer" in html
    page = agent_client.get(panel_url(ticket))
    assert page.status_code == 200 and "<html" in page.content.decode()


def test_upload_shows_preflight_warnings_then_send_messages_the_customer(agent_client, ticket):
    upload = SimpleUploadedFile("logo.png", make_image(width=400, height=300), "image/png")
    response = agent_client.post(
        panel_url(ticket, "upload/"),
        {"file": upload, "order_number": "#1001", "order_line": "Stickers", "print_size": "a6"},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Draft" in html and "dpi at the ordered size" in html
    draft = Proof.objects.get(ticket=ticket)
    response = agent_client.post(panel_url(ticket, f"{draft.pk}/send/"), {"message": "Here it is"})
    assert response.status_code == 302 and response["Location"] == panel_url(ticket)
    draft.refresh_from_db()
    assert draft.version == 1 and draft.sent_message.body.startswith("Here it is")


def test_custom_print_size_and_bad_input_are_reported(agent_client, ticket):
    data = {"print_size": "custom", "width_mm": "85", "height_mm": "55"}
    upload = SimpleUploadedFile("c.pdf", make_pdf(width_mm=85, height_mm=55), "application/pdf")
    agent_client.post(panel_url(ticket, "upload/"), {"file": upload, **data})
    proof = Proof.objects.get(ticket=ticket)
    assert (proof.print_width_mm, proof.print_height_mm) == (85, 55)
    assert any(w.startswith("No bleed") for w in proof.preflight["warnings"])
    bad = agent_client.post(
        panel_url(ticket, "upload/"),
        {"file": SimpleUploadedFile("x.pdf", b"not a pdf"), "print_size": "a4"},
    )
    assert bad.status_code == 415
    assert "Proofs must be PDF, PNG or JPEG files." in bad.content.decode()
    htmx_bad = agent_client.post(
        panel_url(ticket, "upload/"),
        {
            "file": SimpleUploadedFile("x.png", make_image(width=5, height=5)),
            "print_size": "custom",
        },
        **HTMX,
    )
    assert htmx_bad.status_code == 200  # htmx swaps only 2xx; the error is in the panel
    assert "Give the print size in millimetres." in htmx_bad.content.decode()


def test_staff_preview_serves_drafts_to_staff_only(client, ticket):
    draft = ProofFactory(ticket=ticket, sent_at=None, version=None)
    url = panel_url(ticket, f"{draft.pk}/file/")
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(UserFactory(role=Role.VIEWER))
    assert client.get(url).status_code == 200
    other = TicketFactory()
    assert client.get(panel_url(other, f"{draft.pk}/file/")).status_code == 404


def test_viewers_see_the_panel_but_cannot_send(client, ticket):
    client.force_login(UserFactory(role=Role.VIEWER))
    html = client.get(panel_url(ticket), **HTMX).content.decode()
    assert "Send a proof" not in html and "Link order" not in html
    upload = SimpleUploadedFile("c.pdf", make_pdf(width_mm=85, height_mm=55))
    assert client.post(panel_url(ticket, "upload/"), {"file": upload}).status_code == 403


def test_link_an_order_from_the_panel(agent_client, ticket):
    response = agent_client.post(f"/tickets/{ticket.reference}/orders/", {"number": "job 4411"})
    assert response.status_code == 302
    assert list(ticket.orders.values_list("number", flat=True)) == ["JOB-4411"]


def test_file_on_the_ticket_becomes_a_proof_with_preflight(agent_client, ticket):
    """Artwork that arrived by email: "Use as proof" on the timeline, then send (two clicks)."""
    message = TicketMessageFactory(ticket=ticket)
    attachment = AttachmentFactory(
        message=message,
        filename="logo.pdf",
        content_type="application/pdf",
        data=make_pdf(width_mm=100, height_mm=50),
    )
    page = agent_client.get(f"/tickets/{ticket.reference}/timeline/").content.decode()
    use_url = panel_url(ticket, f"from-file/{attachment.pk}/")
    assert f'action="{use_url}"' in page and "Use as proof" in page

    response = agent_client.post(use_url)
    assert response.status_code == 302
    proof = Proof.objects.get(ticket=ticket)
    assert (proof.source, proof.file_name, proof.content_type) == (
        "attachment",
        "logo.pdf",
        "application/pdf",
    )
    assert proof.file.read() == attachment_bytes(attachment) and proof.preflight
    response = agent_client.post(panel_url(ticket, f"{proof.pk}/send/"), {"message": "Proof"})
    assert response.status_code == 302


def test_a_file_that_is_not_artwork_is_refused_as_a_proof(agent_client, ticket):
    attachment = AttachmentFactory(
        message=TicketMessageFactory(ticket=ticket),
        filename="notes.pdf",
        content_type="application/octet-stream",
        data=b"<html>not a pdf</html>",
    )
    response = agent_client.post(panel_url(ticket, f"from-file/{attachment.pk}/"))
    assert response.status_code == 415 and not Proof.objects.exists()


def test_a_file_of_another_ticket_cannot_be_used(agent_client, ticket):
    other = AttachmentFactory()
    response = agent_client.post(panel_url(ticket, f"from-file/{other.pk}/"))
    assert response.status_code == 404


def attachment_bytes(attachment) -> bytes:
    with default_storage.open(attachment.storage_key, "rb") as handle:
        return handle.read()
